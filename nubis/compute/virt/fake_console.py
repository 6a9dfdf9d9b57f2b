"""The fake driver's console endpoints: tiny TCP responders on 127.0.0.1 a console proxy can connect to.

The VNC one is an RFB 3.8 server up to its ServerInit (RFC 6143: version, security type None, a 1x1 framebuffer
named after the fake host), as a client such as noVNC or Tempest's RFB check negotiates it; the SPICE one greets
with SPICE's magic, the serial one with a line naming the console. Each then echoes what it is sent. Enough to
test a proxy end to end without a guest.
"""

from __future__ import annotations

import contextlib
import socket
import struct
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
            if self.banner == RFB_BANNER and not _rfb_handshake(conn):
                return
            while data := conn.recv(4096):
                conn.sendall(data)

    def close(self) -> None:
        self._closed.set()
        self._sock.close()


# ServerInit's pixel format: 32 bits per pixel, depth 24, little-endian true colour, 8 bits a channel.
_PIXEL_FORMAT = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
_DESKTOP = b"nubis-fake"


def _read(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _rfb_handshake(conn: socket.socket) -> bool:
    """The server's side of RFB 3.8 after its version: security type None offered and accepted, ServerInit
    sent. False when the client went away or chose another security type (the connection is then closed)."""
    if _read(conn, 12) is None:  # the client's ProtocolVersion
        return False
    conn.sendall(b"\x01\x01")  # one security type: 1 (None)
    chosen = _read(conn, 1)
    if chosen != b"\x01":
        return False
    conn.sendall(struct.pack(">L", 0))  # SecurityResult: OK
    if _read(conn, 1) is None:  # ClientInit (shared flag)
        return False
    conn.sendall(struct.pack(">HH", 1, 1) + _PIXEL_FORMAT + struct.pack(">L", len(_DESKTOP)) + _DESKTOP)
    return True
