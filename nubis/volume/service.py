"""The volume API (Cinder v3) as the commands see it."""

from __future__ import annotations

from nubis.api import deploy, faults, microversion
from nubis.common.clients.image import ImageClient
from nubis.common.runtime import Runtime
from nubis.services import ServiceDefinition
from nubis.volume import conf, db, policies
from nubis.volume.api import routes, versions
from nubis.volume.core.facade import VolumeCore
from nubis.volume.manager.rpcapi import VolumeManagerAPI

VERSIONS = microversion.VersionRange("volume", microversion.Version.parse(versions.MIN_VERSION),
                                     microversion.Version.parse(versions.MAX_VERSION))


def build_core(runtime: Runtime) -> VolumeCore:
    c = runtime.conf
    return VolumeCore(c, runtime.database("volume"), policies.make(c),
                      VolumeManagerAPI(runtime.messaging, c.volume.rpc_timeout),
                      ImageClient.from_conf(c, optional=True))


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    # Cinder's faults have Nova's shape: {"itemNotFound": {"message": ..., "code": 404}}.
    spec = deploy.ApiSpec(name="volume", routes=routes.ROUTES, fault_format=faults.compute_fault, versions=VERSIONS)
    return deploy.build_app(spec, runtime.conf, build_core(runtime))


SERVICE = ServiceDefinition(
    name="volume",
    console_script="nubis-volume",
    port=8776,
    list_opts=conf.list_opts,
    migration_repo=db.migration_repo,
    build_api=build_api,
    policy_rules=policies.list_rules,
)
