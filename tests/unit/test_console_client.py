"""The console client reads a greeting that arrived in the same packet as the websocket upgrade's answer."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading

from tools.console_client import open_console, read

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455's
GREETING = b"RFB 003.008\n"


def _upgrade_then_greet(listener: socket.socket, done: threading.Event) -> None:
    """Answer one upgrade with the 101 and a binary frame in one write, then say nothing until ``done``."""
    conn, _ = listener.accept()
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest())
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n" + bytes([0x82, len(GREETING)]) + GREETING)
        done.wait(10)


def test_a_greeting_sent_with_the_upgrade_answer_is_read_without_waiting_for_more() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()
    server = threading.Thread(target=_upgrade_then_greet, args=(listener, done), daemon=True)
    server.start()
    try:
        client = open_console(f"http://127.0.0.1:{listener.getsockname()[1]}/", "t0ken", origin=None, timeout=3)
        # websockify's client alone blocks here until the server speaks again (never, for a console).
        assert read(client, len(GREETING), timeout=3) == GREETING
    finally:
        done.set()
        server.join(10)
        listener.close()
