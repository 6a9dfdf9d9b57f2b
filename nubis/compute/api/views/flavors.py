"""Flavors as the Compute API shows them, per microversion."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version
from nubis.compute.api.views.links import links

_BRIEF = ("id", "name", "links", "description")


def flavor(base: str, record: dict[str, Any], version: Version, detailed: bool = True) -> dict[str, Any]:
    body = {k: v for k, v in record.items() if not k.startswith("_")}
    body["links"] = links(base, "flavors", body["id"])
    if version >= Version(2, 75) and body["swap"] == "":
        body["swap"] = 0  # 2.75 made "no swap" a 0 instead of an empty string
    if version >= Version(2, 75):
        body.pop("rxtx_factor", None)  # 2.75 removed it from the flavor
    if version < Version(2, 61):
        body.pop("extra_specs")
    if version < Version(2, 55):
        body.pop("description")
    if not detailed:
        body = {k: body[k] for k in _BRIEF if k in body}
    return body
