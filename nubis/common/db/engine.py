"""Engines and transactions for one service database.

SQLite is the embedded default: WAL so readers never block the writer, a busy
timeout so writers queue instead of failing, and ``BEGIN IMMEDIATE`` for write
transactions so two writers never deadlock on a read-to-write lock upgrade.
Writers of one process also queue on a lock per database file: SQLite's busy
handler retries by sleeping (up to 100 ms a time), so writers contending inside
SQLite wait far longer than the lock is held; a Python lock hands it over at once.
MariaDB/MySQL (PyMySQL) and PostgreSQL get a pre-pinged pool.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
import tenacity
from sqlalchemy import event, orm
from sqlalchemy.engine import Engine, make_url

from nubis.common.retrying import log_retry

LOG = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000

_SQLITE_WRITE_LOCKS: dict[str, threading.RLock] = {}
_SQLITE_WRITE_LOCKS_GUARD = threading.Lock()


def _sqlite_write_lock(url: str) -> threading.RLock:
    with _SQLITE_WRITE_LOCKS_GUARD:
        return _SQLITE_WRITE_LOCKS.setdefault(url, threading.RLock())


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """Create an engine tuned for the backend named by ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    kwargs: dict[str, object] = {
        "pool_pre_ping": True,
        "pool_recycle": 3600,
        "pool_size": pool_size,
        "max_overflow": max_overflow,
    }
    if parsed.get_backend_name() == "mysql":
        kwargs["isolation_level"] = "READ COMMITTED"
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return sa.create_engine(parsed, **kwargs)


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=20,
        max_overflow=40,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if ":memory:" not in url:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One service's database: an engine, reader/writer transactions, and its retry policy.

    ``deadlock_retries`` is how often ``retry.retry_on_deadlock`` runs a write
    transaction again after a deadlock or lock wait (``[database] deadlock_retries``).
    """

    def __init__(self, url: str, pool_size: int = 10, max_overflow: int = 20, deadlock_retries: int = 5) -> None:
        self.url = url
        self.deadlock_retries = deadlock_retries
        self.engine = make_engine(url, pool_size, max_overflow)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = orm.sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write_lock: threading.RLock | None = None
        self._write_engine: Engine
        if self.is_sqlite:
            self._write_engine = self.engine.execution_options(sqlite_immediate=True)
            self._write_lock = _sqlite_write_lock(url)
        else:
            self._write_engine = self.engine
        self._write_sessions = orm.sessionmaker(
            bind=self._write_engine, expire_on_commit=False
        )

    @contextlib.contextmanager
    def reader(self) -> Iterator[orm.Session]:
        """A read-only session; rolled back at the end."""
        with self._sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextlib.contextmanager
    def writer(self) -> Iterator[orm.Session]:
        """A write transaction: committed on success, rolled back on error."""
        with self._write_lock or contextlib.nullcontext(), self._write_sessions() as session:
            with session.begin():
                yield session

    def wait_until_reachable(self, max_retries: int = 10, interval: float = 2.0) -> None:
        """Block until the server answers; say which database is missing while waiting.

        Tries once, then up to ``max_retries`` more times (-1: forever), pausing
        ``interval`` seconds, doubling up to 30. A service started before its
        database must neither crash-loop silently nor hang without a word, so every
        failed attempt is logged (a warning: the operator has to see it).
        Raises ``DatabaseUnreachable`` naming the URL (password masked) when done.
        """
        waiting = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(sa.exc.OperationalError),
            stop=tenacity.stop_never if max_retries < 0 else tenacity.stop_after_attempt(max_retries + 1),
            wait=tenacity.wait_exponential(multiplier=interval, max=30),
            before_sleep=log_retry(LOG, f"Database {self.safe_url} is not reachable", logging.WARNING),
            reraise=True,
        )
        try:
            waiting(self._ping)
        except sa.exc.OperationalError as exc:
            raise DatabaseUnreachable(self.safe_url, str(exc.orig)) from exc

    def _ping(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    @property
    def safe_url(self) -> str:
        """The URL with the password masked, for logs and errors."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


class DatabaseUnreachable(RuntimeError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"database {url} is not reachable: {reason}")
