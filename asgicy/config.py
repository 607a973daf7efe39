"""Every server option, declared once.

``Config`` is a dataclass; each field's metadata carries its command-line flag, help text and choices.
The command line (``asgicy.cli``), the Python API (``asgicy.run(app, **options)``) and the options
reference in the docs are all generated from these declarations, so they cannot disagree. Names follow
uvicorn's where the meaning is the same.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """An option has a value the server cannot use; the message says which and why."""


def option(default: Any, help: str, *, flag: str | None = None, choices: tuple | None = None,
           metavar: str | None = None, group: str = "server") -> Any:
    meta = {"help": help, "flag": flag, "choices": choices, "metavar": metavar, "group": group}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Config:
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
    interface: str = option("auto", "How to call the app: detected (auto), ASGI 3 single callable, or "
                            "ASGI 2 double callable.", choices=("auto", "asgi3", "asgi2"), group="app")
    lifespan: str = option("auto", "Run the ASGI lifespan protocol: on (a failure stops the server), off, or "
                           "auto (on, unless the app does not support it).", choices=("auto", "on", "off"),
                           group="app")
    factory: bool = option(False, "Treat the app string as a factory: call it with no arguments for the app.",
                           group="app")
    app_dir: str = option(".", "Look for the app's module in this directory (put first on sys.path).",
                          metavar="DIR", group="app")
    root_path: str = option("", "The ASGI root_path: the prefix the app is mounted under behind a proxy.",
                            metavar="PATH", group="app")
    limit_concurrency: int | None = option(None, "Answer 503 when this many requests are already running.",
                                           group="limits")
    limit_request_line: int = option(8192, "Longest request line, CRLF included (414 beyond).", group="limits")
    limit_request_headers: int = option(100, "Most header fields in a request (431 beyond).", group="limits")
    limit_request_header_size: int = option(65536, "Largest header section in bytes (431 beyond).",
                                            group="limits")
    limit_request_body: int | None = option(None, "Largest request body in bytes (413 beyond); unlimited when "
                                            "not set.", group="limits")
    timeout_keep_alive: float = option(5.0, "Close a kept-alive connection after this many idle seconds.",
                                       metavar="SECONDS", group="timeouts")
    timeout_header_read: float = option(10.0, "A request head must arrive whole within this many seconds of "
                                        "its first byte (or of the connection opening); otherwise 408 and close. "
                                        "Slowloris protection.", metavar="SECONDS", group="timeouts")
    timeout_graceful_shutdown: float | None = option(30.0, "On shutdown, wait this long for requests in "
                                                     "progress before cancelling them.", metavar="SECONDS",
                                                     group="timeouts")
    log_level: str = option("info", "Log level.", choices=("critical", "error", "warning", "info", "debug",
                                                           "trace"), group="logging")
    access_log: bool = option(True, "Log one line per response.", group="logging")
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
    server_header: bool = option(True, "Add 'server: asgicy' to responses that have no Server header.",
                                 group="http")
    date_header: bool = option(True, "Add a Date header to responses that have none.", group="http")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ConfigError(f"{f.name} must be one of {', '.join(choices)}; got {value!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535; got {self.port}")
        positive = ("backlog", "limit_request_line", "limit_request_headers", "limit_request_header_size",
                    "timeout_keep_alive", "timeout_header_read", "ws_max_size", "ws_max_queue")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be greater than 0; got {getattr(self, name)}")
        for name in ("limit_concurrency", "limit_request_body", "timeout_graceful_shutdown", "ws_ping_interval",
                     "ws_ping_timeout"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"{name} must not be negative; got {value}")
        if self.uds is not None and self.fd is not None:
            raise ConfigError("uds and fd cannot both be given")

    @classmethod
    def options(cls) -> list:
        """The declared options (every field but ``app``), in declaration order."""
        return [f for f in dataclasses.fields(cls) if f.name != "app"]

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> "Config":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ConfigError(f"unknown option{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        return cls(**kwargs)


def flag_of(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")

