"""Every server option, declared once, and the places a value can come from.

``Config`` is a dataclass; each field's metadata carries its command-line flag, help text and choices.
The command line (``asgicy.cli``), the Python API (``asgicy.run(app, **options)``), the environment
(``ASGICY_<NAME>``), the TOML config file and the options reference in the docs are all generated from
these declarations, so they cannot disagree. Names follow uvicorn's where the meaning is the same.

Where a value comes from, weakest first: the default, the config file (``--config FILE``, or
``[tool.asgicy]`` in ./pyproject.toml), the environment (after ``--env-file`` is loaded into it), then the
command line or the keywords given to ``asgicy.run``. ``resolve()`` merges them; every value from a text
source is converted by ``parse_text()`` and every value at all is checked by ``Config.__post_init__``, so
a bad value gives one error that names its source.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .errors import ConfigError

ENV_PREFIX = "ASGICY_"
# Environment variables that are not options: the parser choice (read before any option exists), and the
# test suite's own knobs, which are set around servers the tests start.
ENV_NOT_OPTIONS = frozenset({"ASGICY_PURE_PYTHON"})
ENV_NOT_OPTIONS_PREFIX = "ASGICY_TEST_"
# Names other servers and platforms already use for the same thing (uvicorn and gunicorn read these).
ENV_ALIASES = {"WEB_CONCURRENCY": "workers", "FORWARDED_ALLOW_IPS": "forwarded_allow_ips"}


def option(default: Any, help: str, *, flag: str | None = None, choices: tuple | None = None,
           metavar: str | None = None, group: str = "server") -> Any:
    meta = {"help": help, "flag": flag, "choices": choices, "metavar": metavar, "group": group}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Config:
    # What resolve() noticed in the sources and let pass (environment variables it ignored), for serve() to
    # log once logging is set up. Not an option.
    warnings: ClassVar[tuple] = ()

    app: Any = option(None, "The ASGI app as 'module:attribute' (or the app object, from Python). "
                      "With none, a built-in demo app shows each visitor the ASGI events of their request.",
                      group="app")
    host: str = option("127.0.0.1", "Bind the socket to this host; use 0.0.0.0 (or ::) for every interface.",
                       group="socket")
    port: int = option(8000, "Bind the socket to this port; 0 picks a free one.", group="socket")
    uds: str | None = option(None, "Bind to this unix domain socket instead of host and port.", metavar="PATH",
                             group="socket")
    fd: int | None = option(None, "Serve on an already-bound socket with this file descriptor.", group="socket")
    backlog: int = option(2048, "How many connections may wait to be accepted.", group="socket")
    loop: str = option("auto", "Event loop: uvloop when installed (auto), or the named one.",
                       choices=("auto", "asyncio", "uvloop"))
    interface: str = option("auto", "How to call the app: ASGI 3 single callable, ASGI 2 double callable, or "
                            "WSGI in a thread pool. auto: WSGI for a plain function or method taking exactly "
                            "(environ, start_response), otherwise as asgiref tells ASGI 3 from ASGI 2.",
                            choices=("auto", "asgi3", "asgi2", "wsgi"), group="app")
    wsgi_threads: int = option(10, "Threads that run a WSGI app's requests (one request per thread at a time).",
                               group="app")
    lifespan: str = option("auto", "Run the ASGI lifespan protocol: on (a failure stops the server), off, or "
                           "auto (on, unless the app does not support it).", choices=("auto", "on", "off"),
                           group="app")
    factory: bool = option(False, "Treat the app string as a factory: call it with no arguments for the app.",
                           group="app")
    app_dir: str = option(".", "Look for the app's module in this directory (put first on sys.path).",
                          metavar="DIR", group="app")
    root_path: str = option("", "The ASGI root_path: the prefix the app is mounted under behind a proxy.",
                            metavar="PATH", group="app")
    workers: int = option(1, "Worker processes, each with its own event loop and lifespan, sharing the socket; "
                          "a supervisor restarts any that dies or hangs (also WEB_CONCURRENCY).",
                          group="processes")
    limit_max_requests: int | None = option(None, "A worker serves this many requests, then finishes them and "
                                            "is replaced (with --workers; alone, the server exits).",
                                            group="processes")
    limit_max_requests_jitter: int = option(0, "Add a random 0..N to each worker's --limit-max-requests, so "
                                            "workers are not all replaced at once.", group="processes")
    timeout_worker_healthcheck: float = option(30.0, "A worker whose event loop has not ticked for this many "
                                               "seconds is killed and replaced.", metavar="SECONDS",
                                               group="processes")
    limit_max_memory: int | None = option(None, "A worker whose resident memory passes this many MiB is "
                                          "replaced: a new worker starts, and once it is ready the old one "
                                          "finishes its requests and exits (runs a supervisor, also with one "
                                          "worker; Linux).", metavar="MIB", group="processes")
    reload: bool = option(False, "Restart the server when a watched file changes (development; needs "
                          "watchfiles).", group="processes")
    reload_dirs: list = option([], "Watch this directory (repeatable; default: the current directory).",
                               flag="--reload-dir", metavar="DIR", group="processes")
    reload_includes: list = option([], "Also watch files matching this glob (repeatable; *.py always is).",
                                   flag="--reload-include", metavar="GLOB", group="processes")
    reload_excludes: list = option([], "Ignore files matching this glob (repeatable; added to .*, *.py[cod], "
                                   "*.sw?, *~ and __pycache__).", flag="--reload-exclude", metavar="GLOB",
                                   group="processes")
    reload_delay: float = option(0.25, "Wait this long after a change for more before restarting.",
                                 metavar="SECONDS", group="processes")
    proxy_headers: bool = option(True, "Take the client address and scheme from Forwarded (RFC 7239) or "
                                 "X-Forwarded-For/-Proto, when the peer is in --forwarded-allow-ips.",
                                 group="proxy")
    forwarded_allow_ips: str = option("127.0.0.1,::1", "Comma-separated addresses and networks (CIDR) whose "
                                      "proxy headers and PROXY protocol are trusted; 'unix' for unix-socket "
                                      "peers, '*' for every peer (also FORWARDED_ALLOW_IPS).", metavar="IPS",
                                      group="proxy")
    proxy_protocol: bool = option(False, "Every connection starts with a PROXY protocol header (v1 or v2, as "
                                  "HAProxy and cloud load balancers send) from a trusted peer; the client and "
                                  "server addresses come from it.", group="proxy")
    ssl_keyfile: str | None = option(None, "TLS private key file (PEM).", metavar="PATH", group="tls")
    ssl_certfile: str | None = option(None, "TLS certificate chain file (PEM); serving TLS turns on with it.",
                                      metavar="PATH", group="tls")
    ssl_keyfile_password: str | None = option(None, "Password of an encrypted --ssl-keyfile.", metavar="TEXT",
                                              group="tls")
    ssl_ca_certs: str | None = option(None, "CA certificates (PEM) to verify client certificates with.",
                                      metavar="PATH", group="tls")
    ssl_cert_reqs: int = option(0, "Client certificates: 0 not asked for, 1 optional, 2 required (the ssl "
                                "module's CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED).", choices=(0, 1, 2),
                                group="tls")
    ssl_ciphers: str | None = option(None, "OpenSSL cipher list for TLS 1.2 and older (default: Python's).",
                                     metavar="CIPHERS", group="tls")
    limit_concurrency: int | None = option(None, "Answer 503 when this many requests are already running.",
                                           group="limits")
    limit_request_line: int = option(8192, "Longest request line, CRLF included (414 beyond).", group="limits")
    limit_request_headers: int = option(100, "Most header fields in a request (431 beyond).", group="limits")
    limit_request_header_size: int = option(65536, "Largest header section in bytes (431 beyond); for HTTP/2 "
                                            "the decoded header list, as RFC 9113 counts it, announced as "
                                            "SETTINGS_MAX_HEADER_LIST_SIZE.", group="limits")
    limit_request_body: int | None = option(None, "Largest request body in bytes (413 beyond); unlimited when "
                                            "not set.", group="limits")
    timeout_keep_alive: float = option(5.0, "Close a kept-alive connection after this many idle seconds.",
                                       metavar="SECONDS", group="timeouts")
    timeout_header_read: float = option(10.0, "A request head must arrive whole within this many seconds of "
                                        "its first byte (or of the connection opening); otherwise 408 and close. "
                                        "Slowloris protection.", metavar="SECONDS", group="timeouts")
    timeout_body_read: float | None = option(30.0, "While a request body is arriving, a gap of this many seconds "
                                             "with no byte of it ends the request: the app gets http.disconnect "
                                             "and, before a response, the client 408 (slow-body protection; not "
                                             "counted while the app is not reading).", metavar="SECONDS",
                                             group="timeouts")
    timeout_send: float | None = option(60.0, "A client that reads nothing of a response for this many seconds "
                                        "(the connection's send buffer full, or an HTTP/2 stream's window shut) "
                                        "loses it: the connection is closed, or the HTTP/2 stream reset; the app "
                                        "gets http.disconnect (nginx's send_timeout; off when 0 or not set).",
                                        metavar="SECONDS", group="timeouts")
    timeout_graceful_shutdown: float | None = option(30.0, "On shutdown, wait this long for requests in "
                                                     "progress before cancelling them.", metavar="SECONDS",
                                                     group="timeouts")
    shutdown_delay: float = option(0.0, "After SIGTERM, keep serving for this many seconds before the graceful "
                                   "shutdown starts, with `Connection: close` on every response and "
                                   "--readiness-path answered 503, so that a load balancer or a Kubernetes "
                                   "endpoint sees the instance leave before connections are refused. A second "
                                   "signal cuts it short.", metavar="SECONDS", group="timeouts")
    readiness_path: str | None = option(None, "A path the app serves to a readiness probe (say /ready). From "
                                        "SIGTERM on, the server answers it 503 itself, without the app.",
                                        metavar="PATH", group="timeouts")
    log_level: str = option("info", "Log level.", choices=("critical", "error", "warning", "info", "debug",
                                                           "trace"), group="logging")
    access_log: bool = option(True, "Log one line per response.", group="logging")
    access_log_format: str | None = option(None, "The access log line, in gunicorn's atoms: %(h)s client, "
                                           "%(r)s request line, %(m)s method, %(U)s path, %(q)s query, %(H)s "
                                           "protocol, %(s)s status, %(B)s / %(b)s bytes, %(D)s µs, %(M)s ms, "
                                           "%(L)s s, %(t)s time, %(p)s pid, %({name}i)s a request header, "
                                           "%({name}o)s a response header (default: uvicorn's line).",
                                           metavar="FORMAT", group="logging")
    log_format: str = option("text", "Log lines as text, or as one JSON object per line (time, level, logger, "
                             "message, pid; an access line's client, method, path, status, bytes, duration and "
                             "request id as fields of their own).", choices=("text", "json"), group="logging")
    log_config: str | None = option(None, "Configure logging from this file after the defaults: a logging.config "
                                    "dict in JSON, YAML (needs PyYAML) or TOML, or an .ini file for "
                                    "logging.config.fileConfig. --log-level and --no-access-log still apply.",
                                    metavar="PATH", group="logging")
    request_id: bool = option(False, "Give every request an id: the --request-id-header of a trusted proxy (one "
                              "in --forwarded-allow-ips) when it sends one, else a new one. The app reads it as "
                              "scope['state']['request_id']; the access log shows it.", group="logging")
    request_id_header: str = option("x-request-id", "The request header a trusted proxy's request id comes in, "
                                    "and the response header that echoes it.", metavar="NAME", group="logging")
    request_id_response: bool = option(False, "Echo the request id in every response, in --request-id-header "
                                       "(unless the app sets that header itself). Needs --request-id.",
                                       group="logging")
    metrics_port: int | None = option(None, "Serve Prometheus metrics on this port (needs prometheus_client; "
                                      "across all workers, in its multi-process mode). Off when not set.",
                                      group="metrics")
    metrics_host: str = option("127.0.0.1", "The address the metrics port listens on (0.0.0.0 for a "
                               "Prometheus scraping from elsewhere).", group="metrics")
    ws: str = option("auto", "WebSocket support: auto (on) or none (upgrade requests reach the app as plain "
                     "HTTP).", choices=("auto", "none"), group="websocket")
    ws_max_size: int = option(16 * 1024 * 1024, "Largest WebSocket message in bytes, after decompression "
                              "(close 1009 beyond).", group="websocket")
    ws_max_queue: int = option(32, "Received messages the app has not read yet before reading from the "
                               "client pauses.", group="websocket")
    ws_ping_interval: float | None = option(20.0, "Send a keepalive ping this often, in seconds (off when "
                                            "0 or not set).", metavar="SECONDS", group="websocket")
    ws_ping_timeout: float | None = option(20.0, "Close with 1011 when a ping is not answered within this "
                                           "many seconds; also how long to wait for the client's close "
                                           "frame.", metavar="SECONDS", group="websocket")
    ws_per_message_deflate: bool = option(True, "Accept permessage-deflate compression (RFC 7692) when the "
                                          "client offers it.", group="websocket")
    http: str = option("auto", "HTTP versions served: auto (HTTP/1.1, and HTTP/2 when the client asks for it: "
                       "h2c by prior knowledge or Upgrade on the same port, h2 by ALPN over TLS), 1 (HTTP/1.1 "
                       "only) or 2 (HTTP/2 only: prior knowledge, or ALPN h2 alone).", choices=("auto", "1", "2"),
                       group="http2")
    h2_max_concurrent_streams: int = option(100, "Streams a client may have open on one HTTP/2 connection "
                                            "(SETTINGS_MAX_CONCURRENT_STREAMS; RFC 9113 6.5.2 advises at least "
                                            "100); more are refused with REFUSED_STREAM.", group="http2")
    h2_initial_window_size: int = option(131072, "Request body bytes a client may send on one HTTP/2 stream "
                                         "before the app reads them (SETTINGS_INITIAL_WINDOW_SIZE). 128 KiB lets "
                                         "a 64 KiB upload arrive without waiting for a WINDOW_UPDATE (the RFC's "
                                         "65,535 is one byte short). The connection's window is 8 times this, at "
                                         "least 1 MiB.", group="http2")
    h2_max_frame_size: int = option(16384, "Largest HTTP/2 frame payload the server accepts "
                                    "(SETTINGS_MAX_FRAME_SIZE, 16384 to 16777215; the RFC's default).",
                                    group="http2")
    server_header: bool = option(True, "Add 'server: asgicy' to responses that have no Server header.",
                                 group="http")
    date_header: bool = option(True, "Add a Date header to responses that have none.", group="http")
    config_file: str | None = option(None, "Read options from this TOML file: top-level keys, or the "
                                     "[tool.asgicy] table of a pyproject.toml. Without it, ./pyproject.toml's "
                                     "[tool.asgicy] is read when present.", flag="--config", metavar="PATH",
                                     group="config")
    env_file: str | None = option(None, "Load environment variables from this .env file (for the app, and "
                                  "ASGICY_* options); variables already set win (needs python-dotenv).",
                                  metavar="PATH", group="config")

    def __post_init__(self) -> None:
        for f in Config.options():
            check_type(f, getattr(self, f.name))
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ConfigError(f"{f.name} must be one of {', '.join(map(str, choices))}; got {value!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535; got {self.port}")
        positive = ("backlog", "limit_request_line", "limit_request_headers", "limit_request_header_size",
                    "timeout_keep_alive", "timeout_header_read", "ws_max_size", "ws_max_queue", "workers",
                    "wsgi_threads", "timeout_worker_healthcheck")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be greater than 0; got {getattr(self, name)}")
        for name in ("limit_concurrency", "limit_request_body", "timeout_graceful_shutdown", "ws_ping_interval",
                     "timeout_body_read", "timeout_send",
                     "ws_ping_timeout", "limit_max_requests_jitter", "reload_delay", "shutdown_delay"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"{name} must not be negative; got {value}")
        if not 1 <= self.h2_max_concurrent_streams <= 2**31 - 1:
            raise ConfigError(f"h2_max_concurrent_streams must be between 1 and 2^31-1; got "
                              f"{self.h2_max_concurrent_streams}")
        if not 1 <= self.h2_initial_window_size <= 2**31 - 1:
            raise ConfigError(f"h2_initial_window_size must be between 1 and 2^31-1 (RFC 9113 6.5.2); got "
                              f"{self.h2_initial_window_size}")
        if not 16384 <= self.h2_max_frame_size <= 2**24 - 1:
            raise ConfigError(f"h2_max_frame_size must be between 16384 and 16777215 (RFC 9113 6.5.2); got "
                              f"{self.h2_max_frame_size}")
        if self.limit_max_requests is not None and self.limit_max_requests < 1:
            raise ConfigError(f"limit_max_requests must be at least 1; got {self.limit_max_requests}")
        if self.limit_max_memory is not None and self.limit_max_memory < 1:
            raise ConfigError(f"limit_max_memory must be at least 1 (MiB); got {self.limit_max_memory}")
        if self.limit_max_memory is not None and self.reload:
            raise ConfigError("limit_max_memory and reload cannot be combined")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be between 0 and 65535; got {self.metrics_port}")
        if self.metrics_port is not None and self.metrics_port == self.port and self.port != 0:
            raise ConfigError(f"metrics_port and port are both {self.port}: the metrics need a port of their own")
        if self.request_id_response and not self.request_id:
            raise ConfigError("request_id_response needs request_id")
        if not _TOKEN.fullmatch(self.request_id_header):
            raise ConfigError(f"request_id_header must be a header name (a token); got {self.request_id_header!r}")
        if self.readiness_path is not None and not self.readiness_path.startswith("/"):
            raise ConfigError(f"readiness_path must start with '/'; got {self.readiness_path!r}")
        if self.uds is not None and self.fd is not None:
            raise ConfigError("uds and fd cannot both be given")
        if self.reload and self.workers > 1:
            raise ConfigError("reload and workers > 1 cannot be combined: reload runs one worker")
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ConfigError("ssl_keyfile needs ssl_certfile")
        for name in ("ssl_keyfile_password", "ssl_ca_certs", "ssl_ciphers"):
            if getattr(self, name) and not self.ssl_certfile:
                raise ConfigError(f"{name} needs ssl_certfile (TLS is off without a certificate)")
        if self.ssl_cert_reqs and not self.ssl_certfile:
            raise ConfigError("ssl_cert_reqs needs ssl_certfile (TLS is off without a certificate)")
        if self.ssl_cert_reqs and not self.ssl_ca_certs:
            raise ConfigError("ssl_cert_reqs needs ssl_ca_certs to verify client certificates with")
        # Parse what has a grammar now, so a mistake is a start-up error and not a failure per request.
        from .proxy import TrustedPeers
        TrustedPeers.parse(self.forwarded_allow_ips)
        if self.log_config is not None and not os.path.isfile(self.log_config):
            raise ConfigError(f"log_config file {self.log_config!r} does not exist")
        if self.access_log_format is not None:
            from .server.logs import AccessFormat
            AccessFormat(self.access_log_format)

    @property
    def is_ssl(self) -> bool:
        return bool(self.ssl_certfile)

    @classmethod
    def options(cls) -> list:
        """The declared options (every field but ``app``), in declaration order."""
        return [f for f in dataclasses.fields(cls) if f.name != "app"]

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ConfigError(f"unknown option{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}"
                              + _did_you_mean(unknown[0], known))
        return cls(**kwargs)


def flag_of(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


# -- types ------------------------------------------------------------------------------------------------

def kind_of(f: dataclasses.Field) -> tuple:
    """(base type, may be None) of an option: base is bool, int, float, str or list (of str)."""
    hint = typing.get_type_hints(Config)[f.name]
    args = typing.get_args(hint)
    optional = type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if args else hint
    return typing.get_origin(base) or base, optional


_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "text", list: "a list of text"}


def check_type(f: dataclasses.Field, value: Any) -> None:
    base, optional = kind_of(f)
    if value is None and optional:
        return
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf"),
        str: lambda v: isinstance(v, str),
        list: lambda v: isinstance(v, (list, tuple)) and all(isinstance(item, str) for item in v),
    }[base](value)
    if not ok:
        raise ConfigError(f"{f.name} must be {_TYPE_WORDS[base]}{' (or none)' if optional else ''}; got {value!r}")


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def parse_text(f: dataclasses.Field, text: str) -> Any:
    """An option's value from text (an environment variable, a .env file): 'none' or '' for none, true/false
    (1/0, yes/no, on/off) for booleans, commas between list items."""
    base, optional = kind_of(f)
    stripped = text.strip()
    if optional and stripped.lower() in ("", "none"):
        return None
    try:
        if base is bool:
            if stripped.lower() in _TRUE:
                return True
            if stripped.lower() in _FALSE:
                return False
            raise ValueError
        if base is int:
            return int(stripped)
        if base is float:
            return float(stripped)
        if base is list:
            return [item.strip() for item in stripped.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(f"{f.name} must be {_TYPE_WORDS[base]}; got {text!r}") from None
    return text


def _closest(name: str, known) -> str | None:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return close[0] if close else None


def _did_you_mean(name: str, known) -> str:
    close = _closest(name, known)
    return f" (did you mean {close}?)" if close else ""


# -- sources ----------------------------------------------------------------------------------------------

def _fields() -> dict:
    return {f.name: f for f in Config.options()}


def read_config_file(path: str | os.PathLike) -> dict:
    """The options in a TOML file: its top-level keys, or ``[tool.asgicy]`` of a pyproject.toml. Keys may be
    written with '-' or '_'; values keep their TOML types (a list for a list option)."""
    import tomllib

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("asgicy", {})
    fields = _fields()
    options = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name == "app":
            options["app"] = value
            continue
        if name not in fields or name == "config_file":
            raise ConfigError(f"{path.name}: unknown option {key!r}" + _did_you_mean(name, fields))
        if isinstance(value, str) and kind_of(fields[name])[0] is not str:
            value = parse_text(fields[name], value)  # "none", or a number written as a string
        try:
            check_type(fields[name], value)
        except ConfigError as exc:
            raise ConfigError(f"{path.name}: {exc}") from None
        options[name] = list(value) if isinstance(value, tuple) else value
    return options


def environment_options(environ, warnings: list) -> dict:
    """Options from ``ASGICY_<NAME>`` variables (and WEB_CONCURRENCY, FORWARDED_ALLOW_IPS).

    A variable that names no option is not an error: the environment is shared, and Kubernetes alone puts
    ``ASGICY_SERVICE_HOST``, ``ASGICY_PORT_8000_TCP`` and friends into every pod of a namespace with a
    Service named ``asgicy``. Such variables, and a service link's ``tcp://host:port`` in ASGICY_PORT or
    ASGICY_HOST, are ignored with a line added to ``warnings`` (one for all unknown names, each with the
    option it may be a misspelling of). A known option's bad value is still an error."""
    fields = _fields()
    options = {}
    for alias, name in ENV_ALIASES.items():
        if environ.get(alias, "") != "":
            options[name] = _from_env(fields[name], alias, environ[alias])
    unknown = []
    for key, text in environ.items():
        if not key.startswith(ENV_PREFIX) or key in ENV_NOT_OPTIONS or key.startswith(ENV_NOT_OPTIONS_PREFIX):
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name not in fields:
            close = _closest(name, fields)
            unknown.append(key + (f" (did you mean {ENV_PREFIX}{close.upper()}?)" if close else ""))
            continue
        if name in ("host", "port") and _SERVICE_LINK.fullmatch(text.strip()):
            warnings.append(f"ignoring {key}={text}: a service link that Kubernetes sets for a Service "
                            f"named 'asgicy', not an option (set {key} yourself to override it, or "
                            f"enableServiceLinks: false in the pod spec)")
            continue
        options[name] = _from_env(fields[name], key, text)
    if unknown:
        what = "variables that name" if len(unknown) > 1 else "variable that names"
        warnings.append(f"ignoring environment {what} no option: " + ", ".join(sorted(unknown)))
    return options


# RFC 9110 5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

# What Docker links and Kubernetes service links put in <NAME>_PORT (and some tools in <NAME>_HOST).
_SERVICE_LINK = re.compile(r"(?:tcp|udp|sctp)://[^\s/]+:\d+")


def _from_env(f: dataclasses.Field, key: str, text: str) -> Any:
    try:
        return parse_text(f, text)
    except ConfigError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def load_env_file(path: str, environ=None) -> None:
    """Puts the variables of a .env file into ``os.environ``, where both the app and the ``ASGICY_*`` options
    see them; a variable already set is left alone (the real environment wins, as in docker and uvicorn)."""
    try:
        from dotenv import dotenv_values
    except ImportError:
        raise ConfigError("env_file needs python-dotenv (pip install 'asgicy[standard]')") from None
    if not os.path.isfile(path):
        raise ConfigError(f"env file {path!r} does not exist")
    environ = os.environ if environ is None else environ
    for key, value in dotenv_values(path).items():
        if value is not None:
            environ.setdefault(key, value)


def resolve(explicit: dict, environ=None, cwd: str | os.PathLike = ".") -> Config:
    """The Config from every source: defaults < config file < environment (with the env file) < ``explicit``
    (the command line's flags or ``asgicy.run``'s keywords). Raises ConfigError naming the bad source."""
    environ = os.environ if environ is None else environ
    config_file = explicit.get("config_file") or environ.get(ENV_PREFIX + "CONFIG_FILE") or None
    from_file: dict = {}
    if config_file:
        from_file = read_config_file(config_file)
    else:
        pyproject = Path(cwd) / "pyproject.toml"
        if pyproject.is_file():
            from_file = read_config_file(pyproject)
    env_file = explicit.get("env_file") or environ.get(ENV_PREFIX + "ENV_FILE") or from_file.get("env_file")
    if env_file:
        load_env_file(env_file, environ)
    warnings: list = []
    merged = {**from_file, **environment_options(environ, warnings), **explicit}
    if config_file:
        merged["config_file"] = str(config_file)
    config = Config.from_kwargs(**merged)
    config.warnings = tuple(warnings)
    return config
