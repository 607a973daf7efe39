"""Cycles driven in memory: a parsed request, a RecordingSink, no server and no socket.

The cycle in use is the compiled one when the extensions are built; tests/test_build.py runs this
directory again on the same source uncompiled, over the reference parser."""

from __future__ import annotations

import importlib

import pytest

from asgicy.asgi.http import HTTPCycle, build_scope
from asgicy.asgi.websocket import WebSocketCycle, build_websocket_scope
from asgicy.testing import RecordingSink

CLIENT, SERVER = ["127.0.0.1", 50000], ["127.0.0.1", 8000]


def _parser_module():
    # The compiled cycle reads the compiled parser's Request as a C struct: it is given that one.
    cycle_module = importlib.import_module("asgicy.asgi.http")
    if cycle_module.__file__.endswith(".py"):
        return importlib.import_module("asgicy.http")
    return importlib.import_module("asgicy.http._parser")


def parse(raw: bytes) -> list:
    events = _parser_module().HTTPParser().feed(raw)
    assert events and type(events[0]).__name__ == "Request", events
    return events


class HTTPExchange:
    """One request's cycle over a recording sink, fed what the parser made of ``raw``."""

    def __init__(self, raw: bytes, sink: RecordingSink | None = None, *, cycle_class=HTTPCycle) -> None:
        events = parse(raw)
        self.request = events[0]
        self.sink = sink or RecordingSink()
        self.scope = build_scope(self.request, CLIENT, SERVER, "", "http", None)
        self.cycle = cycle_class(self.scope, self.request, self.sink)
        self.feed(events[1:])

    def feed(self, events: list) -> None:
        for event in events:
            if type(event) is bytes:
                self.cycle.feed_body(event)
            else:
                self.cycle.end_body()

    async def run(self, app) -> None:
        """Runs ``app`` to its end the way the runner does: the cycle is told how it ended."""
        try:
            await app(self.scope, self.cycle.receive, self.cycle.send)
        except BaseException as exc:
            self.cycle.app_done(exc, None)
        else:
            self.cycle.app_done(None, None)


def websocket_cycle(sink: RecordingSink | None = None, subprotocols: tuple = (), max_queue: int = 16):
    raw = (b"GET /chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    request = parse(raw)[0]
    sink = sink or RecordingSink()
    scope = build_websocket_scope(request, CLIENT, SERVER, "", "ws", None, list(subprotocols))
    return WebSocketCycle(scope, request, sink, max_queue), sink


@pytest.fixture
def exchange():
    return HTTPExchange
