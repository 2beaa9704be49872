"""Read what was sent to a non-blocking datagram socket (a stand-in for systemd's notify socket)."""

from __future__ import annotations

import socket


def received(server: socket.socket) -> list[str]:
    """Every datagram waiting on ``server``, oldest first, decoded."""
    messages = []
    while True:
        try:
            messages.append(server.recv(256).decode())
        except BlockingIOError:
            return messages
