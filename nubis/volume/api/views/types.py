"""Volume type bodies."""

from __future__ import annotations

from typing import Any


def detail(t: dict[str, Any], qos_specs_id: bool = False) -> dict[str, Any]:
    """A type as Cinder shows it; ``qos_specs_id`` (admins' show and list) adds the associated QoS specs."""
    body = {"id": t["id"], "name": t["name"], "description": t["description"], "is_public": t["is_public"],
            "os-volume-type-access:is_public": t["is_public"], "extra_specs": t["extra_specs"]}
    if qos_specs_id:
        body["qos_specs_id"] = t["qos_specs_id"]
    return body


def access(entries: list[dict[str, str]]) -> dict[str, Any]:
    """Cinder's ``volume_type_access``: ``{"volume_type_id", "project_id"}`` per project."""
    return {"volume_type_access": [{"volume_type_id": e["volume_type_id"], "project_id": e["project_id"]}
                                   for e in entries]}
