"""Our Fernet token payload: a compact msgpack list that starts with its version.

    [1, user_id, methods_bitmask, scope_kind, scope_id, issued_at, expires_at,
     audit_ids, app_cred_id(, trust_id(, access_token_id))]

``trust_id`` is there only in trust-scoped tokens and ``access_token_id`` only
in OS-OAUTH1 tokens (after a None trust id), so every other token keeps the
nine fields older releases read.

Hex ids travel as raw bytes (half the size); timestamps as integer seconds.
Tokens are never stored: everything validation needs is in here or in the DB.
"""

from __future__ import annotations

import base64
import dataclasses
import os

import msgpack
from cryptography.fernet import InvalidToken, MultiFernet

VERSION = 1
METHODS = ("password", "token", "application_credential", "totp", "oauth1", "mapped")
SCOPES = ("unscoped", "project", "domain", "system")


class MalformedToken(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Payload:
    user_id: str
    methods: tuple[str, ...]
    scope: str  # one of SCOPES
    scope_id: str | None  # project/domain id; "all" for system
    issued_at: float  # sub-second, so a token made right after a revocation is not caught by it
    expires_at: int
    audit_ids: tuple[str, ...]  # this token's, then the one it was rescoped from
    app_cred_id: str | None = None
    trust_id: str | None = None  # OS-TRUST: the token is scoped to this trust (its project and roles)
    access_token_id: str | None = None  # OS-OAUTH1: issued from this access token (its project and roles)


def new_audit_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


def _pack_id(value: str | None) -> bytes | str | None:
    if value and len(value) == 32:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    return value


def _unpack_id(value: bytes | str | None) -> str | None:
    return value.hex() if isinstance(value, bytes) else value


def encode(payload: Payload, fernet: MultiFernet) -> str:
    mask = sum(1 << METHODS.index(m) for m in payload.methods)
    fields = [
        VERSION, _pack_id(payload.user_id), mask, SCOPES.index(payload.scope), _pack_id(payload.scope_id),
        payload.issued_at, payload.expires_at,
        [base64.urlsafe_b64decode(a + "==") for a in payload.audit_ids], _pack_id(payload.app_cred_id),
    ]
    if payload.trust_id or payload.access_token_id:
        fields.append(_pack_id(payload.trust_id))
    if payload.access_token_id:
        fields.append(_pack_id(payload.access_token_id))
    body = msgpack.packb(fields)
    # Fernet tokens are urlsafe base64; the padding carries nothing.
    return fernet.encrypt(body).decode().rstrip("=")


def decode(token: str, fernet: MultiFernet) -> Payload:
    """The payload of a token made with any key in the ring; ``MalformedToken`` otherwise."""
    padded = token + "=" * (-len(token) % 4)
    try:
        body = fernet.decrypt(padded.encode())
        fields = msgpack.unpackb(body)
    except (InvalidToken, ValueError, TypeError, msgpack.UnpackException) as exc:
        raise MalformedToken("the token is not one of ours") from exc
    if not isinstance(fields, list) or not fields or fields[0] != VERSION or len(fields) not in (9, 10, 11):
        raise MalformedToken("unknown token payload version")
    _, user_id, mask, scope, scope_id, issued_at, expires_at, audit_ids, app_cred_id = fields[:9]
    trust_id = fields[9] if len(fields) >= 10 else None
    access_token_id = fields[10] if len(fields) == 11 else None
    return Payload(
        user_id=_unpack_id(user_id) or "",
        methods=tuple(m for i, m in enumerate(METHODS) if mask & (1 << i)),
        scope=SCOPES[scope],
        scope_id=_unpack_id(scope_id),
        issued_at=float(issued_at),
        expires_at=int(expires_at),
        audit_ids=tuple(base64.urlsafe_b64encode(a).decode().rstrip("=") for a in audit_ids),
        app_cred_id=_unpack_id(app_cred_id),
        trust_id=_unpack_id(trust_id),
        access_token_id=_unpack_id(access_token_id),
    )
