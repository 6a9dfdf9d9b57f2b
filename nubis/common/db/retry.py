"""Retrying write transactions that lost a deadlock or a lock wait.

MariaDB/Galera and PostgreSQL abort one side of a deadlock; the right answer
is to run the whole transaction again, which is only safe when the decorated
function opens its own transaction. How often comes from the database itself
(``Database.deadlock_retries``, set from ``[database] deadlock_retries``), read
when the function runs, never at import.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import tenacity
from sqlalchemy import exc as sa_exc

from nubis.common.retrying import log_retry

if TYPE_CHECKING:
    from nubis.common.db.engine import Database

LOG = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# MySQL: 1213 deadlock, 1205 lock wait timeout. PostgreSQL: 40001 serialization
# failure, 40P01 deadlock. SQLite: "database is locked" after the busy timeout.
_MYSQL_CODES = {1213, 1205}
# MySQL 2003: no connection could be made (the address behind a virtual IP is moving, a proxy restarts).
# No statement ran, so running the transaction again is as safe as after a deadlock; a connection lost
# mid-query (2013) is not here: its COMMIT may have happened.
_MYSQL_CONNECT_CODES = {2003}
_PG_CODES = {"40001", "40P01"}

# Full jitter over a doubling ceiling (25 ms, 50 ms, ... at most 1 s): racers spread out instead of colliding again.
DEADLOCK_WAIT = tenacity.wait_random_exponential(multiplier=0.025, max=1.0)
# A database that cannot be reached comes back in seconds (a virtual IP moves in about one): 0.5 s, 1 s, ...
CONNECT_WAIT = tenacity.wait_incrementing(start=0.5, increment=0.5)


def _mysql_code(error: BaseException) -> int | None:
    args = getattr(getattr(error, "orig", None), "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def cannot_connect(error: BaseException) -> bool:
    """True when ``error`` says no connection to the database could be made (nothing was run)."""
    return isinstance(error, sa_exc.DBAPIError) and _mysql_code(error) in _MYSQL_CONNECT_CODES


def _wait(state: tenacity.RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome is not None else None
    return CONNECT_WAIT(state) if error is not None and cannot_connect(error) else DEADLOCK_WAIT(state)


def lost_to_another(error: BaseException) -> bool:
    """True when ``error`` is a deadlock or lock wait: another transaction got the rows first."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    orig = error.orig
    if _mysql_code(error) in _MYSQL_CODES:
        return True
    # psycopg 3 names the SQLSTATE ``sqlstate``; psycopg2 named it ``pgcode``.
    if (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) in _PG_CODES:
        return True
    return "database is locked" in str(orig)


def is_retryable(error: BaseException) -> bool:
    """True when running the transaction again may succeed: it lost to another, or never reached the
    database."""
    return lost_to_another(error) or cannot_connect(error)


def deadlock_retrying(retries: int, what: str) -> tenacity.Retrying:
    """A tenacity policy: ``retries`` more runs after a deadlock, a lock wait or a database that could not be
    reached (waiting longer for that one: ``CONNECT_WAIT``), then the error itself."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_retryable),
        stop=tenacity.stop_after_attempt(max(retries, 0) + 1),
        wait=_wait,
        before_sleep=log_retry(LOG, f"{what}: transient DB conflict"),
        reraise=True,
    )


def _database_of(args: tuple[Any, ...]) -> Database:
    from nubis.common.db.engine import Database

    owner = args[0] if args else None
    db = owner if isinstance(owner, Database) else getattr(owner, "db", None)
    if not isinstance(db, Database):
        raise TypeError("retry_on_deadlock decorates a function whose first argument is a Database, "
                        "or a method of an object whose .db is one")
    return db


def retry_on_deadlock(func: F) -> F:
    """Run ``func`` again (jittered, growing pauses) when its transaction deadlocked.

    ``func`` takes the ``Database`` as its first argument, or is a method of an
    object whose ``db`` attribute is one; that database's ``deadlock_retries``
    bounds the retries.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        retries = _database_of(args).deadlock_retries
        return deadlock_retrying(retries, func.__qualname__)(func, *args, **kwargs)

    return cast(F, wrapper)
