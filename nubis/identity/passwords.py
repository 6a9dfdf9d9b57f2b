"""Password hashing: bcrypt by default; scrypt and pbkdf2 hashes are still verified."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import bcrypt

_MAX_BCRYPT = 72  # bcrypt only reads 72 bytes; longer secrets are pre-hashed


def _bcrypt_input(password: str) -> bytes:
    raw = password.encode()
    if len(raw) > _MAX_BCRYPT:
        raw = base64.b64encode(hashlib.sha256(raw).digest())
    return raw


def hash_password(password: str, algorithm: str = "bcrypt", rounds: int = 12) -> str:
    if algorithm == "bcrypt":
        return bcrypt.hashpw(_bcrypt_input(password), bcrypt.gensalt(rounds)).decode()
    salt = os.urandom(16)
    if algorithm == "scrypt":
        digest = hashlib.scrypt(password.encode(), salt=salt, n=16384, r=8, p=1)
        return f"$scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    if algorithm == "pbkdf2_sha512":
        iterations = 60000
        digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
        return f"$pbkdf2-sha512${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    raise ValueError(f"unknown password hash algorithm {algorithm!r}")


def verify_password(password: str, hashed: str) -> bool:
    """Constant-time check against any supported hash format."""
    try:
        if hashed.startswith("$2"):
            return bcrypt.checkpw(_bcrypt_input(password), hashed.encode())
        parts = hashed.split("$")
        if hashed.startswith("$scrypt$"):
            n, r, p = int(parts[2]), int(parts[3]), int(parts[4])
            salt, want = base64.b64decode(parts[5]), base64.b64decode(parts[6])
            got = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p)
            return hmac.compare_digest(got, want)
        if hashed.startswith("$pbkdf2-sha512$"):
            iterations, salt, want = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
            got = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
            return hmac.compare_digest(got, want)
    except (ValueError, IndexError):
        return False
    return False
