"""Helpers the tests of every service share: databases per backend, serving apps."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.api import server
from tools import ports

# Comma-separated SQLAlchemy URLs of *servers* (no database name), e.g.
# "mysql+pymysql://root@127.0.0.1:3306,postgresql://postgres@127.0.0.1:5432".
DB_URLS_ENV = "NUBIS_TEST_DB_URLS"
TRANSPORT_URL_ENV = "NUBIS_TEST_TRANSPORT_URL"
# "full" (the default): every backend-parametrized test on every backend. "spread" (CI's, to stay within
# its hour): every such test on SQLite and on one of the server backends, the test modules dealt out to
# the server backends in turn, so each backend still runs its share of every service's tests.
BACKEND_MATRIX_ENV = "NUBIS_TEST_BACKEND_MATRIX"


def backend_server_urls() -> list[str]:
    raw = os.environ.get(DB_URLS_ENV, "")
    return [u.strip().rstrip("/") for u in raw.split(",") if u.strip()]


def backend_ids() -> list[str]:
    """``sqlite`` always, plus every backend the environment names."""
    return ["sqlite"] + [sa.engine.make_url(u).get_backend_name() for u in backend_server_urls()]


def server_backend_of_module(tests_per_module: dict[str, int]) -> dict[str, str]:
    """Under the "spread" matrix, the one server backend each test module runs on (besides SQLite).

    ``tests_per_module`` counts each module's backend-parametrized tests; the modules are dealt out
    largest first, each to the backend with the fewest tests so far, so the backends get about equal
    shares. Under the full matrix (or with fewer than two server backends), an empty dict: nothing is
    left out.
    """
    mode = os.environ.get(BACKEND_MATRIX_ENV, "full")
    if mode not in ("full", "spread"):
        raise ValueError(f"{BACKEND_MATRIX_ENV} must be 'full' or 'spread', not {mode!r}")
    servers = backend_ids()[1:]
    if mode == "full" or len(servers) < 2:
        return {}
    load = dict.fromkeys(servers, 0)
    dealt: dict[str, str] = {}
    for module, count in sorted(tests_per_module.items(), key=lambda kv: (-kv[1], kv[0])):
        dealt[module] = min(servers, key=lambda s: (load[s], servers.index(s)))
        load[dealt[module]] += count
    return dealt


@contextlib.contextmanager
def scratch_database(backend: str, tmp_path: str) -> Iterator[str]:
    """A new, empty database on ``backend``; dropped afterwards. Yields its URL."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/test-{uuid.uuid4().hex[:8]}.sqlite"
        return
    server_url = next(u for u in backend_server_urls() if sa.engine.make_url(u).get_backend_name() == backend)
    name = f"nubis_test_{uuid.uuid4().hex[:12]}"
    admin_db = "postgres" if backend == "postgresql" else ""
    admin = sa.create_engine(f"{server_url}/{admin_db}", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield f"{server_url}/{name}"
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


free_port = ports.free_port  # below the ephemeral range: see tools/ports.py


@contextlib.contextmanager
def serving(app: server.WSGIApp, name: str = "test", port: int | None = None) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a thread; yields its base URL."""
    http = server.HttpServer(name, "127.0.0.1", port or free_port(), app, threads=8, shutdown_timeout=2)
    http.start()
    try:
        yield f"http://127.0.0.1:{http.port}"
    finally:
        http.stop()


@contextlib.contextmanager
def rabbit_vhost(url: str) -> Iterator[str]:
    """A fresh RabbitMQ virtual host on the broker of ``url``; yields the URL pointing at it.

    Queue names are global within a vhost (``conductor``, ``compute.host1``), so
    two clouds on one broker would take each other's messages without one each.
    """
    import subprocess

    name = f"nubis-test-{uuid.uuid4().hex[:8]}"
    user = url.split("//", 1)[1].split(":", 1)[0]
    subprocess.run(["rabbitmqctl", "add_vhost", name], check=True, capture_output=True)
    try:
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", name, user, ".*", ".*", ".*"], check=True,
                       capture_output=True)
        yield url.rstrip("/") + "/" + name
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", name], check=False, capture_output=True)


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
               what: str | Callable[[], str] = "the condition") -> Any:
    """Poll ``predicate`` every ``interval`` seconds until it returns something true, and return that.

    The one way tests wait for something asynchronous to happen: no bare sleeps.
    ``predicate`` is always tried at least once, and once more at the deadline.
    After ``timeout`` seconds an AssertionError names ``what`` was awaited (a
    callable ``what`` is asked then, so it can describe the state reached).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    described = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout}s waiting for {described}")


@contextlib.contextmanager
def backend_config(backend: str, tmp_path: str) -> Iterator[dict[str, dict[str, str]]]:
    """Config sections for a cloud on ``backend``: a scratch database, and with a server database
    RabbitMQ (as deployed) in a vhost of the cloud's own, when the environment names a broker."""
    rabbit = os.environ.get(TRANSPORT_URL_ENV)
    vhost = rabbit_vhost(rabbit) if rabbit and backend != "sqlite" else contextlib.nullcontext()
    with scratch_database(backend, tmp_path) as url, vhost as transport_url:
        sections = {"database": {"connection": url}}
        if transport_url:
            sections["DEFAULT"] = {"transport_url": transport_url}
        yield sections


@contextlib.contextmanager
def log_lines(conf: cfg.ConfigOpts) -> Iterator[list[str]]:
    """Every line logged meanwhile (DEBUG and up), formatted the way the processes format them: by oslo.log's
    ContextFormatter with ``conf``'s format strings, when and in the thread where it is logged (so with that
    thread's current request context). The list is filled when the block ends."""
    from oslo_log import formatters

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatters.ContextFormatter(config=conf))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    lines: list[str] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        lines.extend(stream.getvalue().splitlines())
