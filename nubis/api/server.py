"""Serving WSGI apps: cheroot threads in one process, or N forked workers.

Requests reach the threads only once they are whole (``nubis.api.front``), so
slow or stalled clients cannot hold the threads; the limits are ``[api]``
options (``ClientLimits``).

The all-in-one runs every API in one process, each on its own port in its own
thread pool. A standalone service may fork ``workers`` processes that each
bind the port with SO_REUSEPORT (the kernel spreads connections) and build
their app *after* the fork, since DB pools and broker connections must not be
shared across processes. SIGTERM stops accepting, lets in-flight requests
finish (up to ``shutdown_timeout``) and then exits.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from oslo_config import cfg

from nubis.api import endpoint, front

LOG = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DEFAULT_BODY_LIMIT = 114688  # bytes; oslo.middleware's default

OPTS = [
    cfg.FloatOpt("client_header_timeout", default=10.0, min=0.1,
                 help="Seconds a client has to send a request's line and headers (from its connection, or "
                 "its first byte on a kept-alive one); then it gets 408 and is closed. No thread waits "
                 "on it meanwhile."),
    cfg.FloatOpt("client_body_timeout", default=30.0, min=0.1,
                 help="Seconds, after the headers, a client has to send a body of up to "
                 "max_request_body_size bytes (larger bodies, such as image data, are streamed to "
                 "the API instead and bound by client_socket_timeout)."),
    cfg.FloatOpt("client_socket_timeout", default=60.0, min=1,
                 help="Seconds a kept-alive connection may stay idle, and a streamed body or a response "
                 "may stall, before it is closed."),
    cfg.IntOpt("max_connections", default=1024, min=1,
               help="Open client connections per API and worker process. At the limit, the connection "
               "that has waited longest for its request to arrive is dropped for a new one."),
]


@dataclasses.dataclass(frozen=True)
class ClientLimits:
    """How long and how many clients an API server waits for (the ``[api]`` options above)."""

    header_timeout: float = 10.0  # seconds
    body_timeout: float = 30.0  # seconds
    socket_timeout: float = 60.0  # seconds
    max_connections: int = 1024
    body_limit: int = DEFAULT_BODY_LIMIT  # bytes read before a worker is taken

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> ClientLimits:
        api = conf.api
        return cls(api.client_header_timeout, api.client_body_timeout, api.client_socket_timeout,
                   api.max_connections, api.max_request_body_size)


class HttpServer:
    """One listening socket served by a pool of threads."""

    def __init__(self, name: str, host: str, port: int, app: WSGIApp, threads: int = 16,
                 reuse_port: bool = False, shutdown_timeout: float = 30,
                 limits: ClientLimits | None = None, public_endpoint: str | None = None) -> None:
        """``public_endpoint``: the URL clients reach this API at; links and Location headers name it
        instead of the request's Host header (``endpoint.PublicEndpointMiddleware``)."""
        self.name = name
        self.host = host
        limits = limits or ClientLimits()
        if public_endpoint:
            app = endpoint.PublicEndpointMiddleware(app, public_endpoint)
        self._server = front.FrontServer(
            (host, port), app, numthreads=threads, server_name=f"nubis-{name}",
            request_queue_size=256, timeout=limits.socket_timeout, shutdown_timeout=shutdown_timeout,
            reuse_port=reuse_port, header_timeout=limits.header_timeout, body_timeout=limits.body_timeout,
            body_limit=limits.body_limit, max_connections=limits.max_connections,
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    def start(self) -> None:
        """Bind (raising at once if the port is taken) and serve in a thread."""
        _raise_open_files_limit()
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name=f"http-{self.name}", daemon=True)
        self._thread.start()
        LOG.info("%s API listening on http://%s:%d", self.name, self.host, self.port)

    def stop(self) -> None:
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=35)


def _raise_open_files_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit: each API may hold max_connections sockets, and the
    all-in-one runs several APIs in one process (the usual soft limit is 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            LOG.warning("Could not raise the open files limit from %d; at most that many connections", soft)


class StopSignal:
    """Turns SIGTERM/SIGINT into an event the main thread waits on."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: self.event.set())

    def wait(self) -> None:
        while not self.event.wait(1.0):
            pass


def _exit_after(seconds: float) -> None:
    """Exit the process in ``seconds`` whatever is still running (oslo.service's graceful_shutdown_timeout)."""
    def force() -> None:
        LOG.error("Not stopped after %s s ([DEFAULT] graceful_shutdown_timeout); exiting now", seconds)
        logging.shutdown()
        os._exit(1)

    timer = threading.Timer(seconds, force)
    timer.daemon = True
    timer.start()


def run_in_process(start: Callable[[], Sequence[Any]], stop_signal: StopSignal | None = None,
                   graceful_timeout: Callable[[], float] | None = None) -> None:
    """Start what ``start`` builds (objects with ``stop()``), wait for a signal, stop them in reverse.

    ``graceful_timeout`` (asked once the signal came, when the config is read): seconds the stopping may
    take before the process exits anyway; 0 or None: no limit.
    """
    stop_signal = stop_signal or StopSignal()
    stop_signal.install()
    running = list(start())
    try:
        stop_signal.wait()
    finally:
        bound = graceful_timeout() if graceful_timeout is not None else None
        if bound:
            _exit_after(bound)
        _log_quietly(logging.INFO, "Stopping: finishing in-flight work")
        for item in reversed(running):
            try:
                item.stop()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                _log_quietly(logging.ERROR, "Error while stopping %s", item, exc_info=True)


def _log_quietly(level: int, msg: str, *args: Any, exc_info: bool = False) -> None:
    """Log while stopping without letting the log itself stop the stopping: a watched log file whose folder
    is gone raises from its handler, and a stop left half done keeps the process alive on its serving
    threads."""
    try:
        LOG.log(level, msg, *args, exc_info=exc_info)
    except Exception:  # noqa: BLE001
        pass


def run_workers(start: Callable[[], Sequence[Any]], workers: int,
                graceful_timeout: Callable[[], float] | None = None) -> int:
    """Fork ``workers`` children that each run ``start`` (built after the fork).

    The parent only supervises: it restarts a child that dies, forwards SIGTERM,
    and gives up (exit 1) when children die at once repeatedly (a port in use,
    a bad config), so the failure is visible instead of a silent crash loop.
    """
    if workers <= 1:
        run_in_process(start, graceful_timeout=graceful_timeout)
        return 0
    stop = StopSignal()
    stop.install()
    children: dict[int, float] = {}
    quick_deaths = 0

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                run_in_process(start, graceful_timeout=graceful_timeout)
            except Exception:  # noqa: BLE001
                LOG.exception("Worker failed")
                code = 1
            os._exit(code)
        children[pid] = time.monotonic()

    for _ in range(workers):
        spawn()
    while not stop.event.is_set():
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            stop.event.wait(0.5)
            continue
        started = children.pop(pid, time.monotonic())
        if stop.event.is_set():
            break
        quick_deaths = quick_deaths + 1 if time.monotonic() - started < 2 else 0
        if quick_deaths >= 3:
            LOG.error("Workers exit right after starting (status %s); giving up. See the errors above.", status)
            stop.event.set()
            _terminate(children)
            return 1
        LOG.warning("Worker %d exited (status %s); starting a new one", pid, status)
        spawn()
    _terminate(children)
    return 0


def _terminate(children: dict[int, float]) -> None:
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            children.pop(pid, None)
    for pid in list(children):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
