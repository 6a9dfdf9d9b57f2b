"""The network API service as the commands see it."""

from __future__ import annotations

from nubis.api import deploy, faults
from nubis.common.runtime import Runtime
from nubis.network import conf, db, policies
from nubis.network.api import handlers
from nubis.network.core.facade import NetworkCore
from nubis.services import ServiceDefinition


def build_core(runtime: Runtime) -> NetworkCore:
    return NetworkCore(runtime.conf, runtime.database("network"), policies.make(runtime.conf))


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    spec = deploy.ApiSpec(name="network", routes=handlers.ROUTES, fault_format=faults.network_fault)
    return deploy.build_app(spec, runtime.conf, build_core(runtime))


SERVICE = ServiceDefinition(
    name="network",
    console_script="nubis-network",
    port=9696,
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    build_api=build_api,
    policy_rules=policies.list_rules,
)
