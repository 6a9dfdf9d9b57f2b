"""The token cache keystonemiddleware uses when no memcached is configured, and how revocation empties it.

keystonemiddleware's ``auth_token`` caches a validated token for
``[keystone_authtoken] token_cache_time`` seconds and does not ask identity
again meanwhile, so a revoked token keeps working on the other APIs for that
long. Two bounds apply:

* every API process: ``token_cache_time`` defaults to ``TOKEN_CACHE_TIME``
  (5 s) instead of keystonemiddleware's 300 s, so a revocation reaches a
  separately running service within that many seconds;
* one process serving identity and the other APIs (the all-in-one): their
  in-process token cache is this module's ``PROCESS_CACHE`` (handed to
  auth_token through its ``cache`` environ option), and identity empties it
  on every revocation, so the next call with the revoked token is refused.

With ``[keystone_authtoken] memcached_servers`` set, keystonemiddleware uses
memcached and only the first bound applies.
"""

from __future__ import annotations

import threading
import time
from typing import Any

# Seconds a validated token is trusted without asking identity again (keystonemiddleware's default: 300).
TOKEN_CACHE_TIME = 5

# The environ key auth_token is told (its ``cache`` option) to find the cache under.
ENV_KEY = "nubis.token_cache"


class ProcessTokenCache:
    """The subset of a memcache client auth_token uses (``get``, ``set``), in process memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires and _now() >= expires:
                del self._items[key]
                return None
            return value

    def set(self, key: str, value: Any, time: float = 0, **_: Any) -> bool:  # noqa: A002 - memcache's name
        expires = _now() + time if time and time > 0 else 0.0
        with self._lock:
            if len(self._items) > MAX_ITEMS:
                self._drop_expired()
            self._items[key] = (expires, value)
        return True

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def _drop_expired(self) -> None:
        now = _now()
        expired = [k for k, (expires, _) in self._items.items() if expires and now >= expires]
        for key in expired:
            del self._items[key]
        if len(self._items) > MAX_ITEMS:  # all still fresh: start over rather than grow without bound
            self._items.clear()


def _now() -> float:
    return time.monotonic()


MAX_ITEMS = 100_000

# One per process on purpose: it stands for "this process's memory", which is
# exactly what every API in the process shares and what a revocation must empty.
PROCESS_CACHE = ProcessTokenCache()


def invalidate_process_caches() -> None:
    """Forget every token validation cached in this process (called by identity on revocation)."""
    PROCESS_CACHE.clear()
