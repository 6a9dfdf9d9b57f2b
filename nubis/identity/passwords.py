"""Password hashing: bcrypt by default; scrypt and pbkdf2 hashes are still verified."""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import hmac
import math
import os
import threading
import time
from collections.abc import Iterator

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


class HashQueueFull(Exception):
    """Too many password checks are already waiting; ``retry_after`` is a fair guess in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many password checks waiting; retry after {retry_after}s")
        self.retry_after = retry_after


class HashGate:
    """At most ``concurrency`` password hashes at once; the rest wait first come, first served.

    A bcrypt check costs the same CPU whether it runs alone or beside fifty
    others, so letting every login hash at once only makes them all finish
    late together. Admitting as many as there are cores keeps each check fast
    and lets the earliest caller finish first; once ``queue`` callers are
    waiting, newcomers are refused (``HashQueueFull``) instead of waiting
    longer than any client would.
    """

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = max(1, concurrency)
        self.queue = max(0, queue)
        self._cond = threading.Condition()
        self._active = 0
        self._waiting: collections.deque[object] = collections.deque()
        self._seconds_per_hash = 0.25  # refined by every check; a bcrypt cost-12 guess to start with

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``concurrency`` slots; raises ``HashQueueFull`` when the queue is full."""
        with self._cond:
            if self._active >= self.concurrency or self._waiting:
                # A slot just freed still counts until its first waiter wakes to take it.
                if self._active + len(self._waiting) >= self.concurrency + self.queue:
                    ahead = len(self._waiting) + self._active
                    raise HashQueueFull(max(1, math.ceil(ahead * self._seconds_per_hash / self.concurrency)))
                ticket = object()
                self._waiting.append(ticket)
                while self._waiting[0] is not ticket or self._active >= self.concurrency:
                    self._cond.wait()
                self._waiting.popleft()
                self._cond.notify_all()  # the next in line may have a free slot too
            self._active += 1
        began = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - began
            with self._cond:
                self._active -= 1
                self._seconds_per_hash = 0.8 * self._seconds_per_hash + 0.2 * took
                self._cond.notify_all()
