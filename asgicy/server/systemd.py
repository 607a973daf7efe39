"""systemd integration: socket activation and the notification protocol, as sd_listen_fds(3) and
sd_notify(3) describe them, without libsystemd.

- Socket activation: systemd opens the listening sockets (a ``.socket`` unit) and starts the service with
  them as descriptors 3, 4, ... and ``LISTEN_FDS``/``LISTEN_PID`` (``LISTEN_FDNAMES``) in its environment.
  ``listen_sockets()`` takes them; the server then binds nothing itself, so a restart never refuses a
  connection: the kernel queues them on the socket systemd holds.
- Notifications (``Type=notify`` or ``notify-reload``): ``READY=1`` once the server answers, ``STOPPING=1``
  when it begins to shut down, ``RELOADING=1`` while a SIGHUP replaces the workers, and ``WATCHDOG=1`` at
  half the ``WatchdogSec=`` interval while the event loop (or the supervisor's loop) is alive. Datagrams to
  ``NOTIFY_SOCKET``; with no such variable, every call does nothing.

Both read their variables once and remove them from the environment (as libsystemd's ``unset_environment``
does), so that workers and the app's own subprocesses do not take the sockets or notify in the server's
name (systemd's default NotifyAccess=main would refuse them anyway).
"""

from __future__ import annotations

import logging
import os
import socket
import time

logger = logging.getLogger("asgicy.error")

FIRST_FD = 3  # SD_LISTEN_FDS_START


class SystemdError(Exception):
    """The environment systemd set cannot be used (the message says why)."""


def listen_sockets(environ=None) -> list:
    """The listening sockets systemd passed to this process, or [] when it passed none (or passed them to
    another process: ``LISTEN_PID`` names that process)."""
    environ = os.environ if environ is None else environ
    count, pid = environ.get("LISTEN_FDS"), environ.get("LISTEN_PID")
    if not count or not pid:
        return []
    for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        environ.pop(name, None)
    try:
        count, pid = int(count), int(pid)
    except ValueError:
        raise SystemdError(f"LISTEN_FDS={count!r} and LISTEN_PID={pid!r} must be numbers") from None
    if pid != os.getpid():
        return []  # meant for the process that started this one
    sockets = []
    for fd in range(FIRST_FD, FIRST_FD + count):
        try:
            sock = socket.socket(fileno=fd)
        except OSError as exc:
            raise SystemdError(f"descriptor {fd} from systemd (LISTEN_FDS={count}) is not a socket: {exc}") from None
        if sock.type != socket.SOCK_STREAM or not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            sock.detach()
            raise SystemdError(f"descriptor {fd} from systemd is not a listening stream socket (the .socket unit "
                               "needs ListenStream= and Accept=no)")
        sock.set_inheritable(False)
        sockets.append(sock)
    return sockets


class Notifier:
    """sd_notify(3) for this process; every method does nothing when systemd did not ask for notifications."""

    def __init__(self, environ=None) -> None:
        environ = os.environ if environ is None else environ
        path = environ.pop("NOTIFY_SOCKET", None)
        usec, watchdog_pid = environ.pop("WATCHDOG_USEC", None), environ.pop("WATCHDOG_PID", None)
        self.address = None
        self.sock = None
        if path:
            # An abstract socket is written with a leading '@' (sd_notify(3)).
            self.address = "\0" + path[1:] if path.startswith("@") else path
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.watchdog_interval = 0.0
        if usec and self.sock is not None and (not watchdog_pid or watchdog_pid == str(os.getpid())):
            try:
                self.watchdog_interval = int(usec) / 1e6 / 2  # half the timeout, as sd_watchdog_enabled advises
            except ValueError:
                logger.warning("ignoring WATCHDOG_USEC=%r: not a number", usec)
        self.next_watchdog = 0.0
        self.failed = False

    def notify(self, *assignments: str) -> None:
        if self.sock is None:
            return
        try:
            self.sock.sendto("\n".join(assignments).encode(), self.address)
        except OSError as exc:
            if not self.failed:  # once: systemd may be gone (a stop in progress), not worth a line a second
                logger.warning("could not notify systemd at %s: %s", self.address.lstrip("\0"), exc)
                self.failed = True

    def ready(self, status: str) -> None:
        self.notify("READY=1", f"STATUS={status}")

    def stopping(self) -> None:
        self.notify("STOPPING=1", "STATUS=shutting down")

    def reloading(self) -> None:
        # Type=notify-reload wants the monotonic time with it (sd_notify(3), RELOADING=1).
        self.notify("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}",
                    "STATUS=replacing workers")

    def watchdog(self) -> None:
        """WATCHDOG=1 when one is due: called by a loop that is alive, as often as it likes."""
        if self.watchdog_interval:
            now = time.monotonic()
            if now >= self.next_watchdog:
                self.next_watchdog = now + self.watchdog_interval
                self.notify("WATCHDOG=1")
