"""The identity service as the commands see it."""

from __future__ import annotations

from nubis.api import deploy, faults
from nubis.common.runtime import Runtime
from nubis.identity import conf, db, manage, policies
from nubis.identity.api import middleware, routes
from nubis.identity.core.facade import IdentityCore
from nubis.services import ServiceDefinition


def build_core(runtime: Runtime) -> IdentityCore:
    return IdentityCore(runtime.conf, runtime.database("identity"))


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    core = build_core(runtime)
    spec = deploy.ApiSpec(name="identity", routes=routes.ROUTES, fault_format=faults.identity_fault,
                          auth=middleware.auth_factory(core))
    return deploy.build_app(spec, runtime.conf, core)


SERVICE = ServiceDefinition(
    name="identity",
    console_script="nubis-identity",
    port=5000,
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    build_api=build_api,
    add_manage_commands=manage.add_commands,
    policy_rules=policies.list_rules,
)
