"""The volume API's route table: the versions documents, and every resource under ``/v3/{project_id}``."""

from __future__ import annotations

from collections.abc import Mapping

from nubis.api import router
from nubis.volume.api import (
    attachments,
    backups,
    extensions,
    groups,
    messages,
    qos_specs,
    quotas,
    snapshots,
    transfers,
    types,
    versions,
    volumes,
)
from nubis.volume.api.common import in_project

PREFIX = "/v3/{project_id}"


def _table() -> router.RouteTable:
    table: dict[str, Mapping[str, router.Handler]] = dict(versions.routes())
    for module in (volumes, snapshots, types, quotas, attachments, transfers, messages, extensions, qos_specs, backups,
                   groups):
        for path, methods in module.routes(PREFIX).items():
            assert path not in table, f"route {path} declared twice"
            table[path] = {method: in_project(handler) for method, handler in methods.items()}
    return table


ROUTES: router.RouteTable = _table()
