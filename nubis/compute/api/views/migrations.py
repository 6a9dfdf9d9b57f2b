"""Migrations (``/os-migrations`` and ``/servers/{id}/migrations``), per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.compute.api.views.links import links


def migration(base: str, record: dict[str, Any], version: Version, of_server: bool = False) -> dict[str, Any]:
    body = dict(record)
    if of_server:
        body["server_uuid"] = body.pop("instance_uuid")
        for gone in ("migration_type", "old_instance_type_id", "new_instance_type_id"):
            body.pop(gone)
    elif version >= Version(2, 23):
        body["links"] = links(base, "servers", record["instance_uuid"], "migrations", str(record["id"]))
    if version < Version(2, 23):
        body.pop("migration_type", None)
    if version < Version(2, 59):
        body.pop("uuid")
    if version < Version(2, 80):
        body.pop("project_id")
        body.pop("user_id")
    return body
