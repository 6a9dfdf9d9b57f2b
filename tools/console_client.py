"""A websocket client for the console proxies, as the tests and benchmarks open consoles.

websockify's own client, with two changes a console needs: the token goes on the request line as a query string
(its ``connect`` sends the path only), and frames that arrive in the same read as the ``101`` answer are decoded
at once. websockify keeps those bytes in its buffer and decodes them only after its next socket read; a console's
first words (RFB's version, the serial banner) come right after the upgrade and then the guest waits for the
client, so without this a fast proxy leaves the client blocked for ever on a greeting it already holds.
"""

from __future__ import annotations

import select
import time
import urllib.parse
from typing import Any

from websockify.websocket import WebSocket, WebSocketWantReadError


class ConsoleClient(WebSocket):
    """A websocket to ``ws://host:port/?<query>``; reads give up after ``timeout`` seconds without data."""

    def __init__(self, query: str, timeout: float = 60) -> None:
        super().__init__()
        self._query = query
        self._timeout = timeout

    def send_request(self, type: str, path: str) -> None:  # noqa: A002 - websockify's signature
        super().send_request(type, f"{path}?{self._query}")

    def connect(self, uri: str, origin: str | None = None, protocols: Any = ()) -> None:
        """Upgrade (raises websockify's ``Exception`` when the proxy refuses) and queue any frames already read."""
        super().connect(uri, origin, list(protocols))
        self.socket.settimeout(self._timeout)
        while (frame := self._decode_hybi(self._recv_buffer)) is not None:
            self._recv_buffer = self._recv_buffer[frame["length"]:]
            self._recv_queue.append(frame)


def open_console(url: str, token: str, origin: str | None, timeout: float = 60) -> ConsoleClient:
    """Open the console at a proxy ``url`` (its host and port; any path is ignored) with ``token``."""
    parts = urllib.parse.urlsplit(url)
    client = ConsoleClient(urllib.parse.urlencode({"token": token}), timeout)
    client.connect(f"ws://{parts.hostname}:{parts.port}/", origin=origin)
    return client


def read(client: WebSocket, size: int, timeout: float = 60) -> bytes:
    """Up to ``size`` bytes of the console's data; fewer when the proxy closed or ``timeout`` seconds passed."""
    data, deadline = b"", time.monotonic() + timeout
    while len(data) < size and time.monotonic() < deadline:
        try:
            chunk = client.recv()
        except WebSocketWantReadError:  # a frame larger than one socket read: wait for the rest
            select.select([client.socket], [], [], max(0.0, deadline - time.monotonic()))
            continue
        except TimeoutError:
            break
        if chunk is None:
            break
        data += chunk
    return data
