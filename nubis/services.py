"""The services Nubis knows, and the small interface each one offers the commands.

Each service package has a ``service`` module exposing ``SERVICE``, an object
with the members of ``ServiceDefinition``. The commands (standalone service,
all-in-one, nubis-manage, config generator) reach services only through it,
and import a service's code only when they use that service.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from oslo_config import cfg

from nubis.common.db.migration import MigrationRepo
from nubis.common.runtime import Runtime

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Stoppable(Protocol):
    def stop(self) -> None: ...


OptList = list[tuple[str, list[cfg.Opt]]]


def _no_opts() -> OptList:
    return []


@dataclasses.dataclass(frozen=True)
class ServiceDefinition:
    """What a service offers the commands; every callable imports lazily."""

    name: str  # "identity"; also its DB name and the [group] of its listen options
    console_script: str  # "nubis-identity"
    port: int | None = None  # default API port; None for RPC-only services
    list_opts: Callable[[], OptList] = _no_opts
    # Registers the service's options on a ConfigOpts (defaults to list_opts()).
    register_opts: Callable[[cfg.ConfigOpts], None] | None = None
    migration_repo: Callable[[], MigrationRepo] | None = None
    # Builds the WSGI app; called after any fork.
    build_api: Callable[[Runtime], WSGIApp] | None = None
    # Starts background work (RPC servers, agents, periodic tasks).
    start: Callable[[Runtime], Sequence[Stoppable]] | None = None
    # Adds ``nubis-manage`` subcommands; each sets ``func(runtime, args) -> int``.
    add_manage_commands: Callable[[Any], None] | None = None
    # The service's oslo.policy defaults (for ``nubis-manage policy-dump`` and
    # the ``oslo.policy.policies`` entry point).
    policy_rules: Callable[[], list[Any]] | None = None

    def register(self, conf: cfg.ConfigOpts) -> None:
        if self.register_opts is not None:
            self.register_opts(conf)
            return
        for group, opts in self.list_opts():
            conf.register_opts(opts, group=None if group == "DEFAULT" else group)


# Order matters: the all-in-one starts them in this order (identity first,
# since every other API validates tokens against it).
SERVICE_MODULES: dict[str, str] = {
    "identity": "nubis.identity.service",
    "image": "nubis.image.service",
    "placement": "nubis.placement.service",
    "scheduler": "nubis.scheduler.service",
    "compute-api": "nubis.compute.api_service",
    "conductor": "nubis.compute.conductor_service",
    "compute": "nubis.compute.agent_service",
    "network": "nubis.network.service",
    "network-agent": "nubis.network.agent_service",
    "metadata": "nubis.metadata.service",
    "metering": "nubis.metering.service",
    "novncproxy": "nubis.console.novncproxy_service",
    "spicehtml5proxy": "nubis.console.spicehtml5proxy_service",
    "serialproxy": "nubis.console.serialproxy_service",
    "volume": "nubis.volume.service",
    "volume-manager": "nubis.volume.manager_service",
    "exporter": "nubis.monitoring.service",
}


# How the all-in-one and devstack register each API in the catalog:
# service name -> (service_type, catalog name, path after host:port).
CATALOG: dict[str, tuple[str, str, str]] = {
    "identity": ("identity", "keystone", "/v3"),
    "image": ("image", "glance", ""),
    "placement": ("placement", "placement", ""),
    "compute-api": ("compute", "nova", "/v2.1"),
    "network": ("network", "neutron", ""),
    "metering": ("metering", "nubis-metering", ""),
    # Cinder's endpoint names the project; the catalog in a token fills in %(project_id)s (as Keystone).
    "volume": ("block-storage", "cinder", "/v3/%(project_id)s"),
}

# Further catalog entries for the same API under older service types some clients still look up.
CATALOG_ALIASES: dict[str, list[tuple[str, str]]] = {
    "volume": [("volumev3", "cinderv3")],
}


def available() -> list[str]:
    """Names of the services whose code is present in this build."""
    names = []
    for name, module in SERVICE_MODULES.items():
        if importlib.util.find_spec(module.rsplit(".", 1)[0]) is None:
            continue
        try:
            if importlib.util.find_spec(module) is not None:
                names.append(name)
        except ModuleNotFoundError:
            continue
    return names


def load(name: str) -> ServiceDefinition:
    if name not in SERVICE_MODULES:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICE_MODULES)}")
    module = importlib.import_module(SERVICE_MODULES[name])
    return module.SERVICE


def load_all() -> list[ServiceDefinition]:
    return [load(name) for name in available()]
