"""Logging set-up and the access log.

Access log lines are built only from bytes the parser has already restricted (the method is a token,
the target visible ASCII) and the client address; anything else that reaches a log line goes through
``safe()``, which escapes control characters so a client cannot write terminal escape sequences or fake
log lines into the log (CWE-117).
"""

from __future__ import annotations

import logging
import sys

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


class AccessLogger:
    def log(self, conn, cycle) -> None:
        if not ACCESS.isEnabledFor(logging.INFO):
            return
        client = conn.client
        who = f"{client[0]}:{client[1]}" if client else "unix"
        request = cycle.request
        ACCESS.info('%s - "%s %s HTTP/%s" %d %d', who, safe(request.method), safe(request.target),
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
