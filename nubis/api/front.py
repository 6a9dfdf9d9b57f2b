"""A front for cheroot that reads whole requests before a worker thread is taken.

cheroot hands a connection to one of its few worker threads as soon as the
socket is readable, and the worker then blocks reading the rest of the
request: sixteen clients sending half a request line hold all sixteen
threads for the socket timeout, and nobody else is served (slowloris).

Here the selector thread that accepts connections also reads them, without
blocking, into a per-connection buffer until ``framing.judge`` says the
request is whole (head, and a body up to the API's body limit). Only then
does a worker get it, and it reads from that buffer first, so it never
waits on a slow client. Clients get ``header_timeout`` seconds for the head
and ``body_timeout`` more for a buffered body; after that they get a 408 and
are closed. At most ``max_connections`` are open; when a new one arrives at
the limit, the one waiting longest in the front is dropped to make room, so
slow clients cannot keep fast ones out either.
"""

from __future__ import annotations

import _pyio
import errno
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from cheroot import connections as cheroot_connections
from cheroot import makefile as cheroot_makefile
from cheroot import server as cheroot_server
from cheroot import wsgi as cheroot_wsgi

from nubis.api import framing

LOG = logging.getLogger(__name__)

RECV_BYTES = 65536
_CHECK_INTERVAL = 0.2  # seconds between deadline sweeps
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

LINGER_SECONDS = 2.0  # how long a closing connection's unread request body is still read and discarded

IDLE, HEAD, BODY, LINGER = "idle", "head", "body", "linger"


class _BufferedSocketIO(socket.SocketIO):
    """The socket's raw reader, serving the bytes the front already received first."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock, "rb")
        self.pending = bytearray()

    def readinto(self, b: Any) -> int | None:
        if self.pending:
            n = min(len(b), len(self.pending))
            b[:n] = self.pending[:n]
            del self.pending[:n]
            return n
        return super().readinto(b)


class _Reader(cheroot_makefile.StreamReader):
    # _pyio.BufferedReader's read-ahead buffer (cheroot's stubs do not show it).
    _read_buf: bytes
    _read_pos: int

    def __init__(self, sock: socket.socket, bufsize: int) -> None:
        self.raw_io = _BufferedSocketIO(sock)
        _pyio.BufferedReader.__init__(self, self.raw_io, bufsize)
        self.bytes_read = 0

    def take_buffered(self) -> bytes:
        """What the worker read ahead but did not use (the start of a pipelined request)."""
        n = len(self._read_buf) - self._read_pos
        return self.read(n) if n > 0 else b""


def _makefile(sock: socket.socket, mode: str = "r", bufsize: int = _pyio.DEFAULT_BUFFER_SIZE) -> Any:
    if "r" in mode:
        return _Reader(sock, bufsize)
    return cheroot_makefile.MakeFile(sock, mode, bufsize)


class FrontRequest(cheroot_server.HTTPRequest):
    """cheroot's request, except that it never waits for a body the application did not read.

    When an application answers before reading a body (401 to an image upload
    without a token, 404 for an unknown image), cheroot reads the rest of the
    body before it sends the answer, to keep the connection; for a body larger
    than the front buffers, a client trickling it would hold the thread for as
    long as it likes. Such a connection is closed instead, its remaining body
    discarded by the front for a moment (``LINGER_SECONDS``) so that the client
    still gets the answer rather than a reset.
    """

    def send_headers(self) -> None:
        if not self.close_connection and self._unread_body():
            self.close_connection = True
            self.conn.linger_on_close = True
        super().send_headers()

    def _unread_body(self) -> bool:
        if self.chunked_read:
            return not getattr(self.rfile, "closed", True)
        remaining = getattr(self.rfile, "remaining", 0)
        return bool(remaining) and remaining > self.conn.buffered_bytes()


class FrontConnection(cheroot_server.HTTPConnection):
    """A connection with the state the front keeps while reading its next request."""

    RequestHandlerClass = FrontRequest

    def __init__(self, server: Any, sock: socket.socket, makefile: Any = None) -> None:
        super().__init__(server, sock, _makefile)
        self.phase = IDLE
        self.deadline = 0.0
        self.waiting_since = time.monotonic()
        self.linger_on_close = False
        self._closed = False

    @property
    def pending(self) -> bytearray:
        return self.rfile.raw_io.pending

    def buffered_bytes(self) -> int:
        """Bytes received and not yet read by the worker."""
        return len(self.pending) + len(self.rfile._read_buf) - self.rfile._read_pos  # noqa: SLF001

    def close(self) -> None:
        if self.linger_on_close and not self._closed:
            self.linger_on_close = False
            try:
                self.socket.shutdown(socket.SHUT_WR)  # the answer is out; tell the client we are done
                if self.server.ready:
                    self.server.linger(self)
                    return
            except (OSError, ValueError, KeyError):
                pass  # gone already, or the server is stopping: just close
        if not self._closed:
            self._closed = True
            self.server.front_connection_closed()
        super().close()

    def send_now(self, data: bytes) -> None:
        """Best effort, never blocking: a short status line to a client we are about to drop or serve."""
        try:
            self.socket.send(data, socket.MSG_DONTWAIT)
        except OSError:
            pass


class FrontConnectionManager(cheroot_connections.ConnectionManager):
    """cheroot's selector loop, reading requests whole before handing them over."""

    # cheroot's own state that this loop drives (its type stubs leave the private names out, and
    # type the selector's ``connections`` as None): a _ThreadsafeSelector.
    _selector: Any
    _stop_requested: bool
    _remove_invalid_sockets: Callable[[], None]

    def __init__(self, server: FrontServer) -> None:
        super().__init__(server)
        self.front = server

    @property
    def can_add_keepalive_connection(self) -> bool:
        return True  # idle connections cost no thread; ``max_connections`` bounds them all

    def linger(self, conn: FrontConnection) -> None:
        """Read and discard what ``conn``'s client still sends, for a moment, then close it."""
        conn.pending.clear()
        conn.phase, conn.deadline = LINGER, time.monotonic() + LINGER_SECONDS
        conn.waiting_since = 0.0  # the first to go when room is needed: it only discards
        self._selector.register(conn.socket.fileno(), selectors.EVENT_READ, data=conn)

    def put(self, conn: FrontConnection) -> None:
        """A worker is done with ``conn`` and keeps it open: wait for its next request."""
        conn.last_used = time.time()
        leftover = conn.rfile.take_buffered()
        if leftover:
            conn.pending[:0] = leftover
        now = time.monotonic()
        conn.waiting_since = now
        if conn.pending:
            conn.phase, conn.deadline = HEAD, now + self.front.header_timeout
            if self._advance(conn, now):
                return
        else:
            conn.phase, conn.deadline = IDLE, now + self.front.timeout
        try:
            self._selector.register(conn.socket.fileno(), selectors.EVENT_READ, data=conn)
        except (OSError, ValueError, KeyError):
            conn.close()  # closed meanwhile, or the server is stopping (this runs in a worker: never raise)

    def _run(self, expiration_interval: float) -> None:
        last_sweep = time.monotonic()
        while not self._stop_requested:
            try:
                ready = list(self._selector.select(timeout=_CHECK_INTERVAL))
            except OSError:
                self._remove_invalid_sockets()
                continue
            for fd, conn in ready:
                if conn is self.server:
                    self._accept()
                else:
                    self._read(fd, conn)
            now = time.monotonic()
            if now - last_sweep >= _CHECK_INTERVAL:
                self._expire_waiting(now)
                last_sweep = now

    # -- accepting -----------------------------------------------------------

    def _accept(self) -> None:
        if self.front.open_connections >= self.front.max_connections and not self._evict_one():
            # Everything open is being served; leave the new one in the listen backlog.
            time.sleep(0.01)
            return
        try:
            sock, addr = self.server.socket.accept()
        except (TimeoutError, BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                LOG.warning("%s: out of file descriptors; dropping the longest-waiting connection",
                            self.front.server_name)
                if not self._evict_one():
                    time.sleep(0.01)  # all are being served; the listen socket stays readable meanwhile
                return
            if exc.errno in (errno.ECONNABORTED, errno.EBADF, errno.EINVAL):
                return
            raise
        sock.settimeout(self.server.timeout)
        conn = FrontConnection(self.server, sock)
        conn.remote_addr, conn.remote_port = (addr[0], addr[1]) if addr else ("0.0.0.0", 0)
        conn.ssl_env = {}
        self.front.connection_opened()
        now = time.monotonic()
        # A new connection has header_timeout to send its whole head, its first byte included.
        conn.phase, conn.deadline, conn.waiting_since = HEAD, now + self.front.header_timeout, now
        conn.last_used = time.time()
        self._selector.register(sock.fileno(), selectors.EVENT_READ, data=conn)

    def _waiting(self) -> list[tuple[int, FrontConnection]]:
        return [(fd, conn) for fd, conn in self._selector.connections if conn is not self.server]

    def _evict_one(self) -> bool:
        waiting = self._waiting()
        if not waiting:
            return False
        fd, conn = min(waiting, key=lambda item: item[1].waiting_since)
        self._drop(fd, conn, b"" if conn.phase in (IDLE, LINGER) else _TIMEOUT)
        return True

    # -- reading -------------------------------------------------------------

    def _read(self, fd: int, conn: FrontConnection) -> None:
        try:
            data = conn.socket.recv(RECV_BYTES, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client closed (or reset) the connection
            self._drop(fd, conn, b"")
            return
        if conn.phase == LINGER:
            return  # discarded
        now = time.monotonic()
        if conn.phase == IDLE:
            conn.phase, conn.deadline, conn.waiting_since = HEAD, now + self.front.header_timeout, now
        conn.pending.extend(data)
        self._advance(conn, now, fd)

    def _advance(self, conn: FrontConnection, now: float, fd: int | None = None) -> bool:
        """Hand ``conn`` to a worker if its request is whole (True), or note how long it may take still."""
        verdict, head = framing.judge(conn.pending, self.front.body_limit)
        if verdict is framing.Verdict.HEAD_TOO_LARGE:
            if fd is None:
                conn.send_now(_HEAD_TOO_LARGE)
                conn.close()
            else:
                self._drop(fd, conn, _HEAD_TOO_LARGE)
            return True
        if verdict is framing.Verdict.READY:
            if fd is not None:
                self._selector.unregister(fd)
            conn.last_used = time.time()
            self.server.process_conn(conn)
            return True
        if head is not None and conn.phase == HEAD:
            conn.phase, conn.deadline = BODY, now + self.front.body_timeout
            if head.expect_continue and head.expect_line is not None:
                # The client waits for our go-ahead before sending the body we wait for:
                # give it, and drop the header so cheroot does not answer it a second time.
                start, end = head.expect_line
                del conn.pending[start:end]
                conn.send_now(_CONTINUE)
        return False

    # -- dropping --------------------------------------------------------------

    def _expire_waiting(self, now: float) -> None:
        for fd, conn in self._waiting():
            if conn.deadline <= now:
                self._drop(fd, conn, b"" if conn.phase in (IDLE, LINGER) or not conn.pending else _TIMEOUT)

    def _drop(self, fd: int, conn: FrontConnection, reply: bytes) -> None:
        try:
            self._selector.unregister(fd)
        except (KeyError, ValueError):
            pass
        if reply:
            conn.send_now(reply)
        conn.close()


class FrontServer(cheroot_wsgi.Server):
    """cheroot's WSGI server with the front above: workers only ever get whole requests."""

    ConnectionClass = FrontConnection
    # cheroot's connection loop: prepare() swaps in ours before any connection arrives.
    _connections: FrontConnectionManager

    def __init__(self, *args: Any, header_timeout: float, body_timeout: float, body_limit: int,
                 max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.body_limit = body_limit
        self.max_connections = max_connections
        self.max_request_header_size = framing.MAX_HEAD_BYTES
        self.open_connections = 0
        self._count_lock = threading.Lock()  # the selector thread opens, any worker may close

    def connection_opened(self) -> None:
        with self._count_lock:
            self.open_connections += 1

    def linger(self, conn: FrontConnection) -> None:
        self._connections.linger(conn)

    def front_connection_closed(self) -> None:
        with self._count_lock:
            self.open_connections -= 1

    def prepare(self) -> None:
        super().prepare()
        plain = self._connections
        plain._selector.close()  # noqa: SLF001 - replaced before anything was registered but the socket
        self._connections = FrontConnectionManager(self)
