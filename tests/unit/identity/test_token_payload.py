"""The Fernet payload: OS-OAUTH1 tokens carry their access token; every other token keeps its old length."""

from __future__ import annotations

import msgpack
import pytest
from cryptography.fernet import Fernet, MultiFernet

from nubis.identity.tokens import payload

FERNET = MultiFernet([Fernet(Fernet.generate_key())])
USER, PROJECT, ACCESS, TRUST = "a" * 32, "b" * 32, "c" * 32, "d" * 32


def _fields(token: str) -> list[object]:
    return list(msgpack.unpackb(FERNET.decrypt((token + "=" * (-len(token) % 4)).encode())))


def _payload(**extra: str) -> payload.Payload:
    return payload.Payload(USER, ("oauth1",) if "access_token_id" in extra else ("password",), "project", PROJECT,
                           1.5, 100, (payload.new_audit_id(),), **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("extra, length", [({}, 9), ({"trust_id": TRUST}, 10), ({"access_token_id": ACCESS}, 11)])
def test_round_trip_and_length(extra: dict[str, str], length: int) -> None:
    p = _payload(**extra)
    token = payload.encode(p, FERNET)
    assert len(_fields(token)) == length
    assert payload.decode(token, FERNET) == p


def test_an_oauth_token_has_no_trust() -> None:
    decoded = payload.decode(payload.encode(_payload(access_token_id=ACCESS), FERNET), FERNET)
    assert decoded.access_token_id == ACCESS and decoded.trust_id is None and decoded.methods == ("oauth1",)


def test_a_longer_payload_is_refused() -> None:
    fields = _fields(payload.encode(_payload(access_token_id=ACCESS), FERNET)) + [None]
    with pytest.raises(payload.MalformedToken):
        payload.decode(FERNET.encrypt(msgpack.packb(fields)).decode(), FERNET)
