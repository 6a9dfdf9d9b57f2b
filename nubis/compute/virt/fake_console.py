"""The fake driver's console endpoints: tiny TCP responders on 127.0.0.1 a console proxy can connect to.

The VNC one greets like an RFB server ("RFB 003.008\\n"), the SPICE one with SPICE's magic, the serial one
with a line naming the console; each then echoes what it is sent. Enough to test a proxy end to end without a guest.
"""

from __future__ import annotations

import contextlib
import socket
import threading

RFB_BANNER = b"RFB 003.008\n"
SERIAL_BANNER = b"NUBIS-GUEST-UP fake serial console\r\n"
SPICE_BANNER = b"REDQ"  # a SPICE link message starts with this magic
BANNERS = {"vnc": RFB_BANNER, "spice": SPICE_BANNER, "serial": SERIAL_BANNER}


class Responder:
    """One listening socket; every connection gets ``banner`` and an echo of what it sends, until it closes."""

    def __init__(self, banner: bytes) -> None:
        self.banner = banner
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name=f"fake-console-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.sendall(self.banner)
            while data := conn.recv(4096):
                conn.sendall(data)

    def close(self) -> None:
        self._closed.set()
        self._sock.close()
