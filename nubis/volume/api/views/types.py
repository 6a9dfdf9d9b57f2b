"""Volume type bodies."""

from __future__ import annotations

from typing import Any


def detail(t: dict[str, Any]) -> dict[str, Any]:
    return {"id": t["id"], "name": t["name"], "description": t["description"], "is_public": t["is_public"],
            "os-volume-type-access:is_public": t["is_public"], "extra_specs": t["extra_specs"]}
