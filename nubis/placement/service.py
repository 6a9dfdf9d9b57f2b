"""The placement service as the commands see it."""

from __future__ import annotations

from nubis.api import deploy, faults, microversion
from nubis.common.runtime import Runtime
from nubis.placement import db, policies
from nubis.placement.api import routes
from nubis.placement.api.common import MAX_VERSION, MIN_VERSION
from nubis.placement.core.facade import PlacementCore
from nubis.services import ServiceDefinition

VERSIONS = microversion.VersionRange("placement", microversion.Version.parse(MIN_VERSION),
                                     microversion.Version.parse(MAX_VERSION))


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    core = PlacementCore(runtime.conf, runtime.database("placement"), policies.make(runtime.conf))
    spec = deploy.ApiSpec(name="placement", routes=routes.ROUTES, fault_format=faults.placement_fault,
                          versions=VERSIONS)
    return deploy.build_app(spec, runtime.conf, core)


SERVICE = ServiceDefinition(
    name="placement",
    console_script="nubis-placement",
    port=8778,
    migration_repo=db.migration_repo,
    build_api=build_api,
    policy_rules=policies.list_rules,
)
