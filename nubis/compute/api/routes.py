"""The compute API's route table: every resource module's routes under ``/v2.1``.

Each handler is wrapped so the caller's ``is_admin`` is derived from policy once,
before the handler runs (the core reads ``context.is_admin``).
"""

from __future__ import annotations

from nubis.api import router
from nubis.compute.api import (
    aggregates,
    consoles,
    extensions,
    external_events,
    flavor_extra_specs,
    flavors,
    hosts,
    hypervisors,
    images,
    keypairs,
    limits,
    network_proxies,
    quotas,
    scheduler_explain,
    server_actions,
    server_diagnostics,
    server_extras,
    server_groups,
    server_metadata,
    server_moves,
    server_password,
    server_tags,
    servers,
    services,
    usage,
    usage_audit_log,
    versions,
    volume_attachments,
    volumes_proxy,
)
from nubis.compute.api.common import with_admin_context
from nubis.compute.api.views.links import API_PREFIX

_MODULES = (versions, volume_attachments, volumes_proxy, flavors, flavor_extra_specs, keypairs, servers, server_moves, server_metadata, server_tags,
            server_extras, external_events, server_groups, services, hypervisors, limits, quotas, usage, aggregates, hosts, usage_audit_log,
            extensions, consoles, network_proxies, images, server_password,
            server_diagnostics, scheduler_explain)


def _table() -> router.RouteTable:
    table: dict[str, dict[str, router.Handler]] = {}
    for module in _MODULES:
        for path, methods in module.routes(API_PREFIX).items():
            assert path not in table, f"route {path} declared twice"
            table[path] = {method: with_admin_context(handler) for method, handler in methods.items()}
    table[f"{API_PREFIX}/servers/{{server_id}}/action"] = {"POST": with_admin_context(server_actions.server_action)}
    return table


ROUTES: router.RouteTable = _table()
