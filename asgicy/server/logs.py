"""Logging set-up and the access log.

Access log lines are built only from bytes the parser has already restricted (the method is a token,
the target visible ASCII) and the client address; anything else that reaches a log line goes through
``safe()``, which escapes control characters so a client cannot write terminal escape sequences or fake
log lines into the log (CWE-117).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time

ACCESS = logging.getLogger("asgicy.access")
TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_ESCAPES = {i: f"\\x{i:02x}" for i in list(range(0x20)) + [0x7F]}
_ESCAPES.update({ord("\\"): "\\\\"})


def safe(text: str | bytes) -> str:
    """Text with every control character escaped (``\\x1b``), fit for a log line."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return text.translate(_ESCAPES)


def _who(cycle) -> str:
    client = cycle.scope["client"]  # after proxy headers: the address the app saw
    return f"{client[0]}:{client[1]}" if client else "unix"


def _header(headers, name: bytes) -> str:
    for key, value in headers:
        if key == name:
            return safe(value)
    return "-"


def _request_line(cycle) -> str:
    request = cycle.request
    return f"{safe(request.method)} {safe(request.target)} HTTP/{request.http_version}"


def _path_and_query(cycle) -> tuple:
    path, _, query = safe(cycle.request.target).partition("?")
    return path, query


# gunicorn's access log atoms (its docs, "access_log_format"), which many deployments already use.
_ATOMS = {
    "h": _who,
    "l": lambda cycle: "-",
    "u": lambda cycle: "-",
    "t": lambda cycle: time.strftime("[%d/%b/%Y:%H:%M:%S %z]"),
    "r": _request_line,
    "m": lambda cycle: safe(cycle.request.method),
    "U": lambda cycle: _path_and_query(cycle)[0],
    "q": lambda cycle: _path_and_query(cycle)[1],
    "H": lambda cycle: f"HTTP/{cycle.request.http_version}",
    "s": lambda cycle: str(cycle.status),
    "B": lambda cycle: str(cycle.response_size),
    "b": lambda cycle: str(cycle.response_size) if cycle.response_size else "-",
    "f": lambda cycle: _header(cycle.request.headers, b"referer"),
    "a": lambda cycle: _header(cycle.request.headers, b"user-agent"),
    "T": lambda cycle: str(int(time.monotonic() - cycle.started)),
    "L": lambda cycle: f"{time.monotonic() - cycle.started:.6f}",
    "M": lambda cycle: str(int((time.monotonic() - cycle.started) * 1e3)),
    "D": lambda cycle: str(int((time.monotonic() - cycle.started) * 1e6)),
    "p": lambda cycle: f"<{os.getpid()}>",
}
_ATOM = re.compile(r"%\((\{[^}]*\}[io]|[^)]*)\)s|%%|%")


class AccessFormat:
    """A compiled ``--access-log-format``: the literal text and one getter per atom, found once at start-up
    (an unknown atom is a ConfigError then, not a broken line per request)."""

    def __init__(self, text: str) -> None:
        from ..errors import ConfigError

        self.pieces: list = []
        self.timed = False  # a duration atom is used: requests must be timed from their head
        position = 0
        for match in _ATOM.finditer(text):
            literal = text[position:match.start()]
            position = match.end()
            if literal:
                self.pieces.append(literal)
            token = match.group(0)
            if token == "%%":
                self.pieces.append("%")
                continue
            atom = match.group(1)
            if atom is None:
                raise ConfigError(f"access_log_format: a lone '%' at {match.start()}; write %% for a percent sign")
            if atom.startswith("{"):
                name = atom[1:-2].lower().encode("latin-1")
                if atom.endswith("i"):
                    self.pieces.append(lambda cycle, name=name: _header(cycle.request.headers, name))
                else:
                    self.pieces.append(lambda cycle, name=name: _header(
                        ((key.lower(), value) for key, value in cycle.response_headers), name))
            elif atom in _ATOMS:
                self.pieces.append(_ATOMS[atom])
                self.timed = self.timed or atom in "TLMD"
            else:
                raise ConfigError(f"access_log_format: unknown atom %({atom})s; known: "
                                  + ", ".join(f"%({a})s" for a in _ATOMS) + ", %({header}i)s, %({header}o)s")
        if text[position:]:
            self.pieces.append(text[position:])

    def render(self, cycle) -> str:
        return "".join(piece if type(piece) is str else piece(cycle) for piece in self.pieces)


class AccessLogger:
    def __init__(self, access_format: str | None = None) -> None:
        self.format = AccessFormat(access_format) if access_format is not None else None

    def log(self, conn, cycle) -> None:
        if not ACCESS.isEnabledFor(logging.INFO):
            return
        if self.format is not None:
            ACCESS.info("%s", self.format.render(cycle))
            return
        request = cycle.request
        ACCESS.info('%s - "%s %s HTTP/%s" %d %d', _who(cycle), safe(request.method), safe(request.target),
                    request.http_version, cycle.status, cycle.response_size)


def configure_logging(level: str, access_log: bool) -> None:
    numeric = TRACE if level == "trace" else getattr(logging, level.upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    for name in ("asgicy.error", "asgicy.access"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.propagate = False
        log.setLevel(numeric)
    if not access_log:
        logging.getLogger("asgicy.access").setLevel(logging.CRITICAL + 1)
