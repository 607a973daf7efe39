"""Logging set-up, the access log and the JSON log format.

Two loggers: ``asgicy.error`` (the server's own lines) and ``asgicy.access`` (one line per response, and
one per WebSocket session). ``configure_logging`` gives them their handler and format (``--log-format``
text or json), then applies a user's ``--log-config``. An access record carries its values as record
attributes too (``ACCESS_FIELDS``), so that the JSON format, or a user's own formatter, gets them as fields
and not only inside the message.

Access log lines are built only from bytes the parser has already restricted (the method is a token,
the target visible ASCII) and the client address; anything else that reaches a log line goes through
``safe()``, which escapes control characters so a client cannot write terminal escape sequences or fake
log lines into the log (CWE-117).
"""

from __future__ import annotations

import datetime
import json
import logging
import logging.config
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


def _request_id(cycle) -> str:
    state = cycle.scope.get("state")
    return (state or {}).get("request_id") or "-"


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
    "request_id": _request_id,
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


# The fields of an access record, as attributes of the LogRecord (and keys of a JSON line), with what each
# means; docs/howto/observability.md lists this table. WebSocket sessions add WEBSOCKET_FIELDS.
ACCESS_FIELDS = {
    "client": "the client's address as `host:port` (after trusted proxy headers), or `unix`",
    "method": "the request method",
    "path": "the request target's path, as sent (percent-encoded), control characters escaped",
    "query": "the query string, as sent, without `?` (empty when none)",
    "http_version": "`1.0`, `1.1` or `2`",
    "status": "the response status (for a WebSocket session, 101 once accepted)",
    "bytes": "response bytes written: for HTTP/1.1 the head, the body and its chunked framing (as `%(B)s`); "
             "for HTTP/2 the body. `null` for a WebSocket session, whose messages are counted instead",
    "duration": "seconds from the request head's arrival to the response's last byte handed to the "
                "transport (for a WebSocket session, from the upgrade to the end)",
    "request_id": "the request id (`--request-id`), or `null`",
    "pid": "the worker process's id",
}
WEBSOCKET_FIELDS = {
    "websocket": "`true`: the line is a WebSocket session's, logged when its app is done",
    "close_code": "the code of the first close frame either way (1006: the connection was lost without one)",
    "messages_in": "messages received from the client",
    "messages_out": "messages sent to the client",
}


class AccessLogger:
    """Writes the access lines. ``structured`` (the JSON format, or a --log-config): each record also carries
    ACCESS_FIELDS as attributes, which costs a few microseconds per line and is skipped otherwise."""

    def __init__(self, access_format: str | None = None, structured: bool = False) -> None:
        self.format = AccessFormat(access_format) if access_format is not None else None
        self.structured = structured

    @property
    def timed(self) -> bool:
        """Whether lines show durations: requests must then be timed from their head."""
        return self.structured or (self.format is not None and self.format.timed)

    def log(self, conn, cycle) -> None:
        if not ACCESS.isEnabledFor(logging.INFO):
            return
        request = cycle.request
        extra = self._fields(cycle, cycle.status, cycle.response_size) if self.structured else None
        if self.format is not None:
            ACCESS.info("%s", self.format.render(cycle), extra=extra)
            return
        ACCESS.info('%s - "%s %s HTTP/%s" %d %d', _who(cycle), safe(request.method), safe(request.target),
                    request.http_version, cycle.status, cycle.response_size, extra=extra)

    def log_websocket(self, cycle, started: float, accepted: bool) -> None:
        """A WebSocket session's line, when its app is done: path, close code, duration, messages each way."""
        if not ACCESS.isEnabledFor(logging.INFO):
            return
        close_code = cycle.close_code if cycle.close_code is not None else 1006
        extra = None
        if self.structured:
            extra = self._fields(cycle, 101 if accepted else cycle.denial_status(), None, started)
            extra.update(websocket=True, close_code=close_code, messages_in=cycle.messages_in,
                         messages_out=cycle.messages_out)
        request = cycle.request
        ACCESS.info('%s - "WebSocket %s" %s %d, %d messages in, %d out, %.3f s', _who(cycle), safe(request.target),
                    "closed" if accepted else "denied %d" % cycle.denial_status(), close_code, cycle.messages_in,
                    cycle.messages_out, time.monotonic() - started, extra=extra)

    @staticmethod
    def _fields(cycle, status: int, size: int | None, started: float = 0.0) -> dict:
        path, query = _path_and_query(cycle)
        started = started or cycle.started
        return {"client": _who(cycle), "method": safe(cycle.request.method), "path": path, "query": query,
                "http_version": cycle.request.http_version, "status": status, "bytes": size,
                "duration": round(time.monotonic() - started, 6) if started else None,
                "request_id": (cycle.scope.get("state") or {}).get("request_id"), "pid": os.getpid()}


# What a LogRecord has of its own, so the JSON format can tell the fields a caller added with ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601 with milliseconds), level, logger, message, pid, then
    every field the record was given with ``extra`` (an access line's ACCESS_FIELDS), and ``exception``
    (the formatted traceback) when there is one. Usable from a --log-config as
    ``{"()": "asgicy.server.logs.JSONFormatter"}``."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
                                     .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str, access_log: bool, log_format: str = "text", log_config: str | None = None) -> None:
    """The two loggers' handler (stderr) and format, then the user's --log-config on top; --log-level and
    --no-access-log are applied last, so they hold whatever the file says."""
    numeric = TRACE if level == "trace" else getattr(logging, level.upper())
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    for name in ("asgicy.error", "asgicy.access"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.propagate = False
    if log_config is not None:
        apply_log_config(log_config)
    for name in ("asgicy.error", "asgicy.access"):
        logging.getLogger(name).setLevel(numeric)
    if not access_log:
        logging.getLogger("asgicy.access").setLevel(logging.CRITICAL + 1)


def read_log_config(path: str) -> dict | None:
    """The logging.config dict in a JSON, YAML or TOML file (by its extension); None for an .ini file, which
    goes to logging.config.fileConfig. Raises ConfigError naming the file when it cannot be read."""
    from ..errors import ConfigError

    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix in (".ini", ".conf", ".cfg"):
            return None
        with open(path, "rb") as fh:
            data = fh.read()
        if suffix == ".json":
            config = json.loads(data)
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise ConfigError(f"log_config {path!r} is YAML, which needs PyYAML (pip install pyyaml)") from None
            config = yaml.safe_load(data)
        elif suffix == ".toml":
            import tomllib
            config = tomllib.loads(data.decode("utf-8"))
        else:
            raise ConfigError(f"log_config {path!r}: the file's extension must be .json, .yaml, .yml, .toml, "
                              ".ini, .conf or .cfg")
    except ConfigError:
        raise
    except Exception as exc:  # the file's syntax: json, yaml and toml each raise their own errors
        raise ConfigError(f"log_config {path!r} could not be read: {exc}") from None
    if not isinstance(config, dict) or "version" not in config:
        raise ConfigError(f"log_config {path!r} must hold a logging.config dict (with 'version': 1)")
    return config


def apply_log_config(path: str) -> None:
    from ..errors import ConfigError

    config = read_log_config(path)
    try:
        if config is None:
            logging.config.fileConfig(path, disable_existing_loggers=False)
        else:
            # Unless the file says otherwise, loggers it does not name (the app's, asgicy's) keep working.
            config.setdefault("disable_existing_loggers", False)
            logging.config.dictConfig(config)
    except Exception as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ is not None else ""  # dictConfig's own words lack it
        raise ConfigError(f"log_config {path!r}: {exc}{cause}") from None
