"""The URL clients reach an API at, for links and ``Location`` headers.

Handlers build absolute URLs from the WSGI environ (webob's ``host_url``,
``application_url``, ``path_url``), which by default come from the request's
``Host`` header: whatever a caller sends would come back in version
documents, pagination links and ``Location`` headers, and end up in caches
and other clients (host header injection). The server therefore overwrites
the environ's scheme, host and script name with the configured public
endpoint before the app sees the request, so every URL an API emits names
the endpoint the operator published (the catalog's).
"""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")


def default_endpoint(bind_host: str, bind_port: int) -> str:
    """``http://<bind address>:<port>``; for a wildcard address, this machine's name."""
    host = socket.getfqdn() if bind_host in WILDCARD_HOSTS else bind_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{bind_port}"


class PublicEndpointMiddleware:
    """Makes the environ say ``url`` (scheme, host[:port], optional path prefix), whatever the Host header said."""

    def __init__(self, app: Callable[..., Iterable[bytes]], url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"public endpoint {url!r} is not an http(s) URL with a host")
        self.app = app
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.server_name = parts.hostname
        self.server_port = str(parts.port or (443 if parts.scheme == "https" else 80))
        self.prefix = parts.path.rstrip("/")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.netloc
        environ["SERVER_NAME"] = self.server_name
        environ["SERVER_PORT"] = self.server_port
        environ["SCRIPT_NAME"] = self.prefix + environ.get("SCRIPT_NAME", "")
        return self.app(environ, start_response)
