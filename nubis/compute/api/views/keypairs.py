"""Keypairs as the Compute API shows them: which fields each response carries, per microversion (Nova's views)."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version

_LISTED = ("name", "public_key", "fingerprint")
_CREATED = (*_LISTED, "user_id", "private_key")
_SHOWN = (*_LISTED, "user_id", "deleted", "created_at", "updated_at", "deleted_at", "id")


def _pick(record: dict[str, Any], fields: tuple[str, ...], version: Version) -> dict[str, Any]:
    # ``type`` (ssh or x509) appeared in 2.2.
    wanted = (*fields, "type") if version >= Version(2, 2) else fields
    return {k: record[k] for k in wanted if k in record}


def listed(record: dict[str, Any], version: Version) -> dict[str, Any]:
    """An item of ``GET /os-keypairs`` (inside its ``{"keypair": ...}`` wrapper)."""
    return {"keypair": _pick(record, _LISTED, version)}


def created(record: dict[str, Any], version: Version) -> dict[str, Any]:
    """The ``keypair`` of a create or import (``private_key`` only when the key was generated)."""
    return _pick(record, _CREATED, version)


def shown(record: dict[str, Any], version: Version) -> dict[str, Any]:
    """The ``keypair`` of ``GET /os-keypairs/{name}``, with Nova's record fields."""
    return _pick(record, _SHOWN, version)
