"""systemd's notify protocol over ``$NOTIFY_SOCKET`` (the socket module only; no dependency).

Under a unit with ``Type=notify`` and ``WatchdogSec=``, the app sends ``READY=1`` once its first
frame has been presented, then ``WATCHDOG=1`` about every half of ``$WATCHDOG_USEC`` from the frame
loop, so a window that stops drawing frames (a hung UI) is killed and restarted by systemd. Outside
systemd (no ``$NOTIFY_SOCKET``) every call does nothing.
"""

from __future__ import annotations

import os
import socket
import time


class SystemdNotifier:
    def __init__(self, address: str | None, *, watchdog_usec: int | None = None, pid: int | None = None,
                 clock=time.monotonic):
        self.address = address
        self.clock = clock
        self.interval = watchdog_usec / 2e6 if watchdog_usec else None  # seconds between WATCHDOG=1
        self.ready_sent = False
        self.sent: list[str] = []  # the last few messages, newest last (for a status line and tests)
        self.errors = 0
        self._next_ping = 0.0
        self._socket: socket.socket | None = None
        if address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        # $WATCHDOG_PID names the process systemd watches; another process (a child) must not ping.
        self.watching = self.interval is not None and (pid is None or pid == os.getpid())

    @classmethod
    def from_environ(cls, environ=os.environ, *, clock=time.monotonic) -> "SystemdNotifier":
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        return cls(environ.get("NOTIFY_SOCKET") or None, watchdog_usec=int(usec) if usec.isdigit() else None,
                   pid=int(pid) if pid.isdigit() else None, clock=clock)

    @property
    def active(self) -> bool:
        return self._socket is not None

    def notify(self, message: str) -> bool:
        """Send one datagram (e.g. ``"STATUS=attract loop"``); False if it could not be sent."""
        if self._socket is None:
            return False
        address = self.address
        if address.startswith("@"):
            address = "\0" + address[1:]  # the abstract namespace
        try:
            self._socket.sendto(message.encode(), address)
        except OSError:
            self.errors += 1  # systemd went away or the socket is full: the app carries on regardless
            return False
        self.sent = (self.sent + [message])[-8:]
        return True

    def ready(self) -> None:
        """``READY=1``, once."""
        if not self.ready_sent and self._socket is not None:
            self.ready_sent = self.notify("READY=1")

    def frame(self, *_record) -> None:
        """Called after every frame (a frame-loop listener): ready once, then pings when they are due."""
        if self._socket is None:
            return
        self.ready()
        if not self.watching:
            return
        now = self.clock()
        if now >= self._next_ping:
            self.notify("WATCHDOG=1")
            self._next_ping = now + self.interval

    def close(self) -> None:
        if self._socket is not None:
            self.notify("STOPPING=1")
            self._socket.close()
            self._socket = None
