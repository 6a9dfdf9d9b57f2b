"""Catalog records as Glance renders them: ISO times, ``self`` and ``schema`` links, unset fields left out."""

from __future__ import annotations

from typing import Any

from nubis.image.core.records import iso

NAMESPACES = "/v2/metadefs/namespaces"


def _present(body: dict[str, Any]) -> dict[str, Any]:
    """Glance leaves unset fields out (``null`` would fail its own schema)."""
    return {k: iso(v) if k in ("created_at", "updated_at") else v for k, v in body.items() if v is not None}


def namespace_href(name: str) -> str:
    return f"{NAMESPACES}/{name}"


def association(record: dict[str, Any]) -> dict[str, Any]:
    return _present(dict(record))


def namespace(record: dict[str, Any]) -> dict[str, Any]:
    """A namespace; its associations, objects, properties and tags when the record has any."""
    body = _present({k: record.get(k) for k in ("namespace", "display_name", "description", "visibility",
                                               "protected", "owner", "created_at", "updated_at")})
    body["self"], body["schema"] = namespace_href(record["namespace"]), "/v2/schemas/metadefs/namespace"
    if record.get("resource_type_associations"):
        body["resource_type_associations"] = [association(a) for a in record["resource_type_associations"]]
    if record.get("properties"):
        body["properties"] = record["properties"]
    if record.get("objects"):
        body["objects"] = [metadef_object(record["namespace"], o) for o in record["objects"]]
    if record.get("tags"):
        body["tags"] = [{"name": t["name"]} for t in record["tags"]]
    return body


def metadef_object(namespace_name: str, record: dict[str, Any]) -> dict[str, Any]:
    body = _present(dict(record))
    body["properties"] = record.get("properties") or {}
    body["self"] = f"{namespace_href(namespace_name)}/objects/{record['name']}"
    body["schema"] = "/v2/schemas/metadefs/object"
    return body


def metadef_property(record: dict[str, Any]) -> dict[str, Any]:
    return dict(record)


def tag(record: dict[str, Any]) -> dict[str, Any]:
    return _present(dict(record))


def resource_type(record: dict[str, Any]) -> dict[str, Any]:
    return _present(dict(record))
