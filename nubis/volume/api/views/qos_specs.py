"""QoS specs bodies (Cinder's ``qos_specs`` view)."""

from __future__ import annotations

from typing import Any


def summary(q: dict[str, Any]) -> dict[str, Any]:
    """One entry of a listing, and the ``qos_specs`` of a create or show."""
    return {"id": q["id"], "name": q["name"], "consumer": q["consumer"], "specs": q["specs"]}


def links(base_url: str, project_id: str, qos_id: str) -> list[dict[str, str]]:
    """Cinder's ``links``: the specs' own URL (``self``) and its unversioned one (``bookmark``)."""
    return [{"rel": "self", "href": f"{base_url}/v3/{project_id}/qos-specs/{qos_id}"},
            {"rel": "bookmark", "href": f"{base_url}/{project_id}/qos-specs/{qos_id}"}]


def detail(q: dict[str, Any], base_url: str, project_id: str) -> dict[str, Any]:
    return {"qos_specs": summary(q), "links": links(base_url, project_id, q["id"])}
