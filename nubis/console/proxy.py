"""A websocket console proxy: a browser (noVNC) or a client (serial) ↔ the guest's console TCP socket.

The framing is websockify's (``ProxyRequestHandler``); this module adds what a cloud needs before it
connects anyone: the token (from ``?token=`` or the ``token`` cookie) is checked through the given
``check_token`` (the conductor, over RPC: the proxy holds no database credentials), it must be of a
console type this proxy serves, the page's ``Origin`` must be the proxy's own host or an allowed one, and
the proxy then connects to exactly the host and port the token is bound to. Every opened and refused
console is logged with who asked (the token's user, the client's address) and which instance.
"""

from __future__ import annotations

import dataclasses
import http
import http.cookies
import http.server
import logging
import socket
import socketserver
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from websockify import websocketproxy

LOG = logging.getLogger(__name__)

# (token) -> what it grants ({"instance_uuid", "console_type", "host", "port", "internal_access_path", ...})
# or None when it is unknown or expired.
TokenCheck = Callable[[str], "dict[str, Any] | None"]


class Refused(Exception):
    """The websocket is not opened: ``code`` is the HTTP status the client gets, the message says why."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class ProxySettings:
    name: str  # "novncproxy", for the logs
    console_types: tuple[str, ...]  # the token types this proxy connects (novnc; serial)
    allowed_origins: tuple[str, ...] = ()  # host names besides the proxy's own
    web_dir: str | None = None  # static files served to plain GETs (noVNC's client); None: websockets only


def _token(path: str, cookie_header: str | None) -> str | None:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    if query.get("token"):
        return query["token"][0]
    if cookie_header:  # noVNC before 1.0 passed the token in a cookie
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(cookie_header)
        except http.cookies.CookieError:
            return None
        if "token" in cookies:
            return cookies["token"].value
    return None


def _host_name(value: str) -> str:
    """The host name of a Host header or an Origin URL, without port or brackets."""
    if "://" in value:
        return (urllib.parse.urlsplit(value).hostname or "").lower()
    return (urllib.parse.urlsplit(f"//{value}").hostname or "").lower()


class ConsoleRequestHandler(websocketproxy.ProxyRequestHandler):
    """One client connection: checked in ``handle_upgrade``, proxied in ``new_websocket_client``."""

    server: ConsoleProxyServer
    grant: dict[str, Any]

    def _check(self) -> dict[str, Any]:
        settings = self.server.settings
        origin = self.headers.get("Origin")
        if origin is not None:  # browsers always send it; a non-browser client (serial) may not
            expected = {_host_name(self.headers.get("Host", ""))} | {o.lower() for o in settings.allowed_origins}
            if _host_name(origin) not in expected:
                raise Refused(403, f"Origin {origin[:200]} is not allowed to open consoles here")
        token = _token(self.path, self.headers.get("Cookie"))
        if not token:
            raise Refused(403, "No console token given (?token=...)")
        try:
            grant = self.server.check_token(token)
        except Exception as exc:  # noqa: BLE001 - the conductor is unreachable: the client can retry
            LOG.warning("%s: checking a console token failed: %s", settings.name, exc)
            raise Refused(503, "The console token cannot be checked right now") from None
        if grant is None:
            raise Refused(403, "The console token is invalid or has expired")
        if grant["console_type"] not in settings.console_types:
            raise Refused(403, f"This proxy serves {', '.join(settings.console_types)} consoles, not "
                               f"{grant['console_type']}")
        return grant

    def handle_upgrade(self) -> None:
        try:
            self.grant = self._check()
        except Refused as exc:
            LOG.warning("%s: console refused to %s: %s", self.server.settings.name, self.client_address[0],
                        exc.reason)
            self._refuse(exc)
            return
        super().handle_upgrade()

    def _refuse(self, exc: Refused) -> None:
        """Answer a refused upgrade with the status and reason only, then close.

        No body: a websocket client that reads on after the headers (Tempest's noVNC test, as Nova's proxy
        closes after a bad token) must find nothing, not an HTML error page it would take for frames.
        """
        self.send_response(exc.code, exc.reason)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def new_websocket_client(self) -> None:
        grant, name = self.grant, self.server.settings.name
        LOG.info("%s: %s console of instance %s opened by user %s from %s (to %s:%s)", name,
                 grant["console_type"], grant["instance_uuid"], grant.get("user_id") or "?", self.client_address[0],
                 grant["host"], grant["port"])
        try:
            target = socket.create_connection((grant["host"], int(grant["port"])), timeout=10)
        except OSError as exc:
            LOG.warning("%s: cannot reach the console of %s at %s:%s: %s", name, grant["instance_uuid"],
                        grant["host"], grant["port"], exc)
            raise self.CClose(1011, "Failed to connect to the console") from None
        target.settimeout(None)
        target.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if grant.get("internal_access_path"):  # a tunnel in front of the console (Nova's CONNECT form)
                target.sendall(f"CONNECT {grant['internal_access_path']} HTTP/1.1\r\n\r\n".encode())
                answer = target.recv(4096)
                if not answer.startswith(b"HTTP/1.1 200"):
                    raise self.CClose(1011, "The console's tunnel refused the connection")
            self.do_proxy(target)
        finally:
            LOG.info("%s: console of instance %s closed (client %s)", name, grant["instance_uuid"],
                     self.client_address[0])
            try:
                target.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            target.close()

    def translate_path(self, path: str) -> str:
        # Static files come from the configured client directory, never from the process's working directory.
        self.directory = self.server.settings.web_dir or "/nonexistent"
        return str(super().translate_path(path))

    def list_directory(self, path: Any) -> Any:
        self.send_error(404)
        return None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        LOG.debug("%s: %s %s", self.server.settings.name, self.client_address[0], format % args)


class ConsoleProxyServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """The listening proxy; one thread per client. The attributes below are what websockify's handler reads."""

    daemon_threads = True
    allow_reuse_address = True
    # websockify's handler settings
    verbose = False
    daemon = False
    record = ""
    run_once = False
    handler_id = 0
    file_only = True
    traffic = False
    web_auth = False
    host_token = False
    heartbeat = None
    token_plugin = None
    auth_plugin = None
    unix_listen = None
    ws_connection = False

    def __init__(self, address: tuple[str, int], settings: ProxySettings, check_token: TokenCheck,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.check_token = check_token
        self.only_upgrade = not settings.web_dir
        self.logger = LOG
        super().__init__(address, ConsoleRequestHandler)
        if ssl_context is not None:
            # The TLS handshake happens in the client's own thread (finish_request), so a client that
            # connects and never says anything cannot hold up everyone else's accept.
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(10)
            request.do_handshake()
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up or failed TLS: worth a line, not a traceback on stderr.
        LOG.info("%s: connection from %s ended with an error", self.settings.name, client_address[0], exc_info=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class RunningProxy:
    """A proxy serving in a thread of its own, until ``stop()``."""

    def __init__(self, server: ConsoleProxyServer) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, name=f"{server.settings.name}-{server.port}",
                                        daemon=True)
        self._thread.start()
        LOG.info("%s listening on %s:%s", server.settings.name, *server.server_address[:2])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


def ssl_context(cert_file: str | None, key_file: str | None) -> ssl.SSLContext | None:
    """A server TLS context from a PEM certificate and key; None when no certificate is configured."""
    if not cert_file:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file or None)
    return context


def start(settings: ProxySettings, host: str, port: int, check_token: TokenCheck,
          tls: ssl.SSLContext | None = None) -> RunningProxy:
    """Listen on ``host:port`` and serve in a background thread."""
    return RunningProxy(ConsoleProxyServer((host, port), settings, check_token, tls))


def origins(values: Sequence[str]) -> tuple[str, ...]:
    """``[console] allowed_origins`` as host names (an entry may be a URL or host:port)."""
    return tuple(_host_name(v) if ("://" in v or ":" in v) else v.lower() for v in values if v)
