"""The fake driver's console endpoints: tiny TCP responders on 127.0.0.1 a console proxy can connect to.

The VNC one is a minimal RFB 3.8 server (RFC 6143: version, security type None, a small framebuffer of one
colour named after the fake host, and that framebuffer in raw encoding whenever a client asks for a full update),
as a client such as noVNC or Tempest's RFB check negotiates it, so a browser can draw it; the SPICE one greets with
SPICE's magic, the serial one with a line naming the console, and those two then echo what they are sent. Enough to
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
            if self.banner == RFB_BANNER:
                if _rfb_handshake(conn):
                    _rfb_serve(conn)
                return
            while data := conn.recv(4096):
                conn.sendall(data)

    def close(self) -> None:
        self._closed.set()
        self._sock.close()


# ServerInit's pixel format: 32 bits per pixel, depth 24, little-endian true colour, 8 bits a channel.
_PIXEL_FORMAT = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
_DESKTOP = b"nubis-fake"
# The framebuffer: WIDTH x HEIGHT pixels, all of COLOUR (red, green, blue), which a test or benchmark looks for.
WIDTH, HEIGHT = 64, 48
COLOUR = (0x2E, 0x8B, 0x57)
# Client-to-server message types (RFC 6143 7.5) and the bytes that follow the type byte, where fixed.
_SET_PIXEL_FORMAT, _SET_ENCODINGS, _UPDATE_REQUEST, _KEY, _POINTER, _CUT_TEXT = 0, 2, 3, 4, 5, 6
_FIXED_SIZES = {_SET_PIXEL_FORMAT: 19, _UPDATE_REQUEST: 9, _KEY: 7, _POINTER: 5}


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
    conn.sendall(struct.pack(">HH", WIDTH, HEIGHT) + _PIXEL_FORMAT + struct.pack(">L", len(_DESKTOP)) + _DESKTOP)
    return True


def _pixel(pixel_format: bytes) -> bytes:
    """COLOUR as one pixel of a true-colour ``pixel_format`` (ServerInit's layout; 8, 16 or 32 bits a pixel)."""
    bits, _depth, big_endian, _true, red_max, green_max, blue_max, red_shift, green_shift, blue_shift = \
        struct.unpack(">BBBBHHHBBB", pixel_format[:13])
    value = 0
    for level, top, shift in zip(COLOUR, (red_max, green_max, blue_max), (red_shift, green_shift, blue_shift),
                                 strict=True):
        value |= (level * top // 255) << shift
    return value.to_bytes(bits // 8, "big" if big_endian else "little")


def _rfb_serve(conn: socket.socket) -> None:
    """Answer the client's messages until it goes: a full update request gets the whole framebuffer in raw
    encoding, in the client's pixel format; an incremental one gets nothing (nothing ever changes); input and
    encodings are read and dropped. An unknown message type closes the connection (its length is unknowable)."""
    pixel = _pixel(_PIXEL_FORMAT)
    while (kind := _read(conn, 1)) is not None:
        if kind[0] == _SET_ENCODINGS:
            head = _read(conn, 3)
            if head is None or _read(conn, 4 * struct.unpack(">xH", head)[0]) is None:
                return
        elif kind[0] == _CUT_TEXT:
            head = _read(conn, 7)
            if head is None or _read(conn, struct.unpack(">xxxL", head)[0]) is None:
                return
        elif kind[0] in _FIXED_SIZES:
            body = _read(conn, _FIXED_SIZES[kind[0]])
            if body is None:
                return
            if kind[0] == _SET_PIXEL_FORMAT:
                pixel = _pixel(body[3:])
            elif kind[0] == _UPDATE_REQUEST and body[0] == 0:
                conn.sendall(struct.pack(">BxHHHHHl", 0, 1, 0, 0, WIDTH, HEIGHT, 0) + pixel * (WIDTH * HEIGHT))
        else:
            return
