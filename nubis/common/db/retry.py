"""Retrying write transactions that lost a deadlock or a lock wait.

MariaDB/Galera and PostgreSQL abort one side of a deadlock; the right answer
is to run the whole transaction again, which is only safe when the decorated
function opens its own transaction.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc

LOG = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# MySQL: 1213 deadlock, 1205 lock wait timeout. PostgreSQL: 40001 serialization
# failure, 40P01 deadlock. SQLite: "database is locked" after the busy timeout.
_MYSQL_CODES = {1213, 1205}
_PG_CODES = {"40001", "40P01"}


def is_retryable(error: BaseException) -> bool:
    """True when ``error`` is a transient concurrency failure."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    orig = error.orig
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_CODES:
        return True
    if getattr(orig, "pgcode", None) in _PG_CODES:
        return True
    return "database is locked" in str(orig)


def retry_on_deadlock(
    fn: Callable[P, R] | None = None, *, attempts: int = 5
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Run ``fn`` again (with jittered backoff) when its transaction deadlocked."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(1, attempts + 1):
                try:
                    return func(*args, **kwargs)
                except sa_exc.DBAPIError as exc:
                    if attempt == attempts or not is_retryable(exc):
                        raise
                    LOG.debug("%s: transient DB conflict, retry %d", func.__qualname__, attempt)
                    time.sleep(random.uniform(0, 0.05 * attempt))
            raise AssertionError("unreachable")

        return wrapper

    if fn is not None:
        return decorate(fn)
    return decorate
