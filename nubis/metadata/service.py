"""nubis-metadata: the metadata API guests reach at 169.254.169.254 through their network's proxy."""

from __future__ import annotations

from typing import Any

from nubis.api import deploy
from nubis.common.runtime import Runtime
from nubis.compute.conductor.metadata_rpc import ConductorMetadataAPI
from nubis.metadata.api import ROUTES, MetadataCore
from nubis.metadata.source import MetadataSource
from nubis.network import conf
from nubis.network.metadata_rpc import NetworkMetadataAPI
from nubis.services import ServiceDefinition


def metadata_fault(status: int, title: str, message: str, error_type: str, request_id: str) -> dict[str, Any]:
    return {"error": {"code": status, "title": title, "message": message}}


def build_api(runtime: Runtime) -> deploy.WSGIApp:
    source = MetadataSource(ConductorMetadataAPI(runtime.messaging), NetworkMetadataAPI(runtime.messaging))
    core = MetadataCore(source, runtime.conf.metadata.shared_secret)
    # No tokens here: guests cannot have one; the proxy's signature is the credential.
    spec = deploy.ApiSpec(name="metadata", routes=ROUTES, fault_format=metadata_fault, auth=lambda app: app)
    return deploy.build_app(spec, runtime.conf, core)


def _opts() -> list[tuple[str, list[Any]]]:
    return [(conf.METADATA_GROUP, conf.METADATA_OPTS)]


SERVICE = ServiceDefinition(
    name="metadata",
    console_script="nubis-metadata",
    port=8775,
    list_opts=_opts,
    build_api=build_api,
)
