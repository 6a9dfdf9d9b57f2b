"""Keypairs: a user's SSH public keys, imported or generated (the private half is returned once)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.compute.db.models import KeyPair

_NAME = re.compile(r"^[A-Za-z0-9 _.@-]{1,255}$")
_KEY_TYPES = ("ssh", "x509")


def fingerprint(public_key: str) -> str:
    """The colon-separated MD5 of the key blob, as ``ssh-keygen -E md5 -l`` and the API show it."""
    parts = public_key.strip().split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
        raise exceptions.BadRequest("Keypair data is invalid: the public key must look like 'ssh-ed25519 AAAA... "
                                    "comment'.")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise exceptions.BadRequest("Keypair data is invalid: the key is not valid base64.") from None
    try:  # the blob must be a key of its stated type (Nova loads it the same way): "ssh-rsa JUNK" is not
        serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (ValueError, UnsupportedAlgorithm):
        raise exceptions.BadRequest("Keypair data is invalid: the public key cannot be loaded.") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def _generate() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, public + " Generated-by-Nubis"


def as_dict(k: KeyPair, full: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"name": k.name, "public_key": k.public_key, "fingerprint": k.fingerprint, "type": k.type}
    if full:
        body.update({"user_id": k.user_id, "created_at": k.created_at.isoformat(), "deleted": False,
                     "deleted_at": None, "updated_at": None, "id": k.id})
    return body


class KeypairStore:
    def __init__(self, db: Database, limits: Callable[[str | None, Any], dict[str, int]]) -> None:
        self.db = db
        self.limits = limits  # (project_id, session) -> effective quota limits

    def create(self, user_id: str, project_id: str | None, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("keypair"), dict):
            raise exceptions.BadRequest("The request body must be {\"keypair\": {...}}.")
        spec = body["keypair"]
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise exceptions.BadRequest("Keypair name must be 1-255 letters, digits, spaces or '_.@-'.")
        key_type = spec.get("type", "ssh")
        if key_type not in _KEY_TYPES:
            raise exceptions.BadRequest(f"Invalid keypair type {key_type!r}: use ssh or x509.")
        private = None
        public = spec.get("public_key")
        if public is None:
            private, public = _generate()
        elif not isinstance(public, str):
            raise exceptions.BadRequest("public_key must be a string.")
        row = KeyPair(user_id=spec.get("user_id") or user_id, name=name, public_key=public.strip(),
                      fingerprint=fingerprint(public), type=key_type)
        with self.db.writer() as s:
            if s.scalar(sa.select(KeyPair.id).where(KeyPair.user_id == row.user_id, KeyPair.name == name)):
                raise exceptions.Conflict(f"Key pair '{name}' already exists.")
            quota = self.limits(project_id, s)["key_pairs"]
            if quota >= 0:
                count = s.scalar(sa.select(sa.func.count()).select_from(KeyPair).where(
                    KeyPair.user_id == row.user_id)) or 0
                if count >= quota:
                    raise exceptions.Forbidden(f"Quota exceeded, too many key pairs ({count} of {quota}).")
            s.add(row)
            s.flush()
            out = as_dict(row)
        if private is not None:
            out["private_key"] = private
        return out

    def list(self, user_id: str) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            return [as_dict(k, full=False) for k in
                    s.scalars(sa.select(KeyPair).where(KeyPair.user_id == user_id).order_by(KeyPair.name))]

    def _row(self, s: Any, user_id: str, name: str) -> KeyPair:
        row = s.scalar(sa.select(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == name))
        if row is None:
            raise exceptions.NotFound(f"Keypair {name} not found for user {user_id}")
        return row

    def get(self, user_id: str, name: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return as_dict(self._row(s, user_id, name))

    def delete(self, user_id: str, name: str) -> None:
        with self.db.writer() as s:
            s.delete(self._row(s, user_id, name))
