"""Bootstrapping a whole cloud: admin, service user, and a catalog entry per API.

Shared by ``nubis all-in-one`` and ``nubis-manage bootstrap-cloud`` (which
devstack runs), so both register services the same way.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from nubis import services
from nubis.common.runtime import Runtime

SERVICE_USER = "nubis"


def catalog_endpoints(host: str, ports: Mapping[str, int], names: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(service_type, catalog name, url)`` for every API among ``names``."""
    endpoints = []
    for name in names:
        if name not in services.CATALOG or name not in ports:
            continue
        service_type, catalog_name, path = services.CATALOG[name]
        endpoints.append((service_type, catalog_name, f"http://{host}:{ports[name]}{path}"))
        for alias_type, alias_name in services.CATALOG_ALIASES.get(name, []):
            endpoints.append((alias_type, alias_name, f"http://{host}:{ports[name]}{path}"))
    return endpoints


def bootstrap_cloud(runtime: Runtime, admin_password: str, service_password: str,
                    endpoints: Sequence[tuple[str, str, str]]) -> None:
    """Create (or bring up to date) the admin, the service user and the catalog."""
    from nubis.identity import bootstrap

    bootstrap.bootstrap(
        runtime,
        bootstrap.BootstrapRequest(
            admin_password=admin_password,
            region=runtime.conf.region_name,
            service_users={SERVICE_USER: service_password},
            endpoints=[bootstrap.Endpoint(service_type=t, service_name=n, url=u) for t, n, u in endpoints],
        ),
    )


def add_manage_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bootstrap-cloud",
        help="Create the admin, the service user and catalog entries for every API (idempotent).",
    )
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--service-password", required=True,
                        help=f"Password of the '{SERVICE_USER}' service user the services authenticate as.")
    parser.add_argument("--public-host", default="127.0.0.1", help="Host name or address in the catalog URLs.")
    parser.set_defaults(func=_run)


def _run(runtime: Runtime, args: argparse.Namespace) -> int:
    from nubis.cmd import common

    names = services.available()
    ports = {}
    for name in names:
        service = services.load(name)
        if service.build_api is not None:
            ports[name] = runtime.conf[common.listen_group(service)].bind_port
    bootstrap_cloud(runtime, args.admin_password, args.service_password,
                    catalog_endpoints(args.public_host, ports, names))
    return 0
