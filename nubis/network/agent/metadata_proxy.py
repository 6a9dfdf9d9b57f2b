"""The metadata proxy: 169.254.169.254:80 inside each DHCP namespace, forwarding to nubis-metadata.

The listening socket is opened inside the namespace by a short-lived thread
that enters it (setns affects only the calling thread), then served from the
agent's own threads: no process per namespace, and the onward request leaves
from the agent's network stack, where nubis-metadata is reachable. The proxy
asks the network service which instance holds the caller's address on that
network and adds the instance id, signed with the shared secret as Nova's
metadata API expects, so a guest can never read another guest's metadata.
"""

from __future__ import annotations

import ctypes
import hashlib
import hmac
import http.server
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
METADATA_IP = "169.254.169.254"
PORT = 80
LOOKUP_TTL = 30.0  # seconds an address -> instance answer is reused

# (network_id, address) -> {"instance_id", "project_id"} or None
Lookup = Callable[[str, str], "dict[str, str] | None"]


def sign(secret: str, instance_id: str) -> str:
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def listen_in_namespace(ns: str, address: str, port: int) -> socket.socket:
    """A listening TCP socket that belongs to network namespace ``ns``."""
    result: dict[str, Any] = {}

    def enter_and_bind() -> None:
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            with open(f"/var/run/netns/{ns}") as f:
                if libc.setns(f.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {ns} failed")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.listen(128)
            result["sock"] = sock
        except OSError as exc:
            result["error"] = exc

    # The thread ends right after, taking its namespace switch with it.
    thread = threading.Thread(target=enter_and_bind, name=f"netns-{ns}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["sock"]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt: str, *args: Any) -> None:
        LOG.debug("metadata %s: " + fmt, self.server.network_id, *args)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        caller = self.client_address[0]
        target = self.server.lookup(caller)
        if target is None:
            self._reply(404, b"No instance holds this address on this network.\n")
            return
        headers = {"X-Instance-ID": target["instance_id"], "X-Tenant-ID": target["project_id"],
                   "X-Instance-ID-Signature": sign(self.server.secret, target["instance_id"]),
                   "X-Forwarded-For": caller}
        request = urllib.request.Request(self.server.upstream + self.path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - configured upstream
                self._reply(resp.status, resp.read(), resp.headers.get("Content-Type", "text/plain"))
        except urllib.error.HTTPError as exc:
            self._reply(exc.code, exc.read(), exc.headers.get("Content-Type", "text/plain"))
        except OSError as exc:
            LOG.error("Metadata service at %s unreachable: %s", self.server.upstream, exc)
            self._reply(503, b"The metadata service is unreachable.\n")

    def _reply(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sock: socket.socket, network_id: str, upstream: str, secret: str, lookup: Lookup) -> None:
        super().__init__((METADATA_IP, PORT), _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.network_id = network_id
        self.upstream = upstream.rstrip("/")
        self.secret = secret
        self._lookup = lookup
        self._cache: dict[str, tuple[float, dict[str, str] | None]] = {}

    def lookup(self, address: str) -> dict[str, str] | None:
        now = time.monotonic()
        hit = self._cache.get(address)
        if hit is not None and now - hit[0] < LOOKUP_TTL and hit[1] is not None:
            return hit[1]
        target = self._lookup(self.network_id, address)
        self._cache[address] = (now, target)
        return target


class MetadataProxies:
    """One proxy per DHCP namespace, started and stopped as the DHCP side asks."""

    def __init__(self, upstream: str, secret: str, lookup: Lookup) -> None:
        self.upstream = upstream
        self.secret = secret
        self.lookup = lookup
        self._servers: dict[str, tuple[_ProxyServer, threading.Thread]] = {}

    def ensure(self, ns: str, network_id: str) -> None:
        if ns in self._servers:
            return
        sock = listen_in_namespace(ns, METADATA_IP, PORT)
        server = _ProxyServer(sock, network_id, self.upstream, self.secret, self.lookup)
        thread = threading.Thread(target=server.serve_forever, name=f"metadata-{network_id[:8]}", daemon=True)
        thread.start()
        self._servers[ns] = (server, thread)

    def remove(self, ns: str) -> None:
        entry = self._servers.pop(ns, None)
        if entry is not None:
            entry[0].shutdown()
            entry[0].server_close()

    def stop(self) -> None:
        for ns in list(self._servers):
            self.remove(ns)
