"""The connection state table (asgicy/server/states.py) is the one the protocol follows.

A real HTTPProtocol is driven without sockets, one event at a time, through scenarios that between them
meet every row of the table; after each event the state its fields put it in must be the row's target.
And every row must be met, so a row nobody can reach fails here too."""

from __future__ import annotations

import asyncio

import pytest

from asgicy.config import Config
from asgicy.server import states as S
from asgicy.server.protocol import HTTPProtocol
from asgicy.server.server import ServerState

from .wire import RecordingTransport

TABLE = {(source, event): target for source, event, target, _ in S.TRANSITIONS}
MET: set = set()
UPGRADE_HEAD = (b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


class Transport(RecordingTransport):
    """What the upgrade and the lingering close need of a transport, besides writes."""

    def __init__(self) -> None:
        super().__init__()
        self.protocol = None
        self.eof_written = False

    def set_protocol(self, protocol) -> None:
        self.protocol = protocol

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True


class Driver:
    """One connection and an app whose requests wait until the test releases them (by path)."""

    def __init__(self) -> None:
        self.gates: dict = {}

        async def app(scope, receive, send):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close"})
                return
            path = scope["path"]
            await self.gate(path).wait()
            if path.startswith("/fail"):
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"part", "more_body": True})
                raise RuntimeError("the app fails mid-body (on purpose)")
            headers = [(b"connection", b"close")] if path.startswith("/close") else []
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"ok"})

        config = Config(app=app, access_log=False, lifespan="off", timeout_body_read=5)
        self.server_state = ServerState(config, app, asyncio.get_running_loop())
        self.protocol = HTTPProtocol(self.server_state)
        self.transport = Transport()
        self.protocol.connection_made(self.transport)

    def gate(self, path: str) -> asyncio.Event:
        return self.gates.setdefault(path, asyncio.Event())

    @property
    def state(self) -> str:
        return S.state_of(self.protocol)

    async def step(self, event: str, action) -> None:
        before = self.state
        assert (before, event) in TABLE, f"the table has no row for {event!r} in {before}"
        result = action()
        if asyncio.iscoroutine(result):
            await result
        for _ in range(5):
            await asyncio.sleep(0)
        assert self.state == TABLE[(before, event)], (before, event, self.state)
        MET.add((before, event))

    # -- actions
    def feed(self, data: bytes):
        return lambda: self.protocol.data_received(data)

    def release(self, path: str):
        return lambda: self.gate(path).set()

    def timeout(self):
        def fire() -> None:
            now = asyncio.get_running_loop().time()
            self.protocol.check_timeouts(now + 1000)  # (a stalled body: the first look starts its clock)
            self.protocol.check_timeouts(now + 2000)
        return fire

    def peer_closes(self):
        return lambda: self.protocol.connection_lost(None)


def get(path: str) -> bytes:
    return b"GET %b HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode()


def post_head(path: str, length: int = 10) -> bytes:
    return b"POST %b HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (path.encode(), length)


BROKEN = b"NOT A REQUEST\r\n\r\n"


async def scenario_keep_alive():
    d = Driver()
    await d.step(S.HEAD_BEGINS, d.feed(b"GET /a HTTP/1.1\r\n"))
    await d.step(S.REQUEST, d.feed(b"Host: t\r\n\r\n"))
    await d.step(S.RESPONSE, d.release("/a"))
    assert d.transport.writes[-1].endswith(b"\r\n\r\nok")
    await d.step(S.TIMEOUT, d.timeout())


async def scenario_body_then_close():
    d = Driver()
    await d.step(S.HEAD, d.feed(post_head("/close")))
    await d.step(S.BODY_ENDS, d.feed(b"0123456789"))
    await d.step(S.RESPONSE_CLOSE, d.release("/close"))


async def scenario_discarding():
    d = Driver()
    await d.step(S.HEAD_BEGINS, d.feed(b"POST /d HTTP/1.1\r\n"))
    await d.step(S.HEAD, d.feed(b"Host: t\r\nContent-Length: 10\r\n\r\n"))
    await d.step(S.RESPONSE, d.release("/d"))
    await d.step(S.BODY_ENDS, d.feed(b"0123456789"))
    await d.step(S.REQUEST, d.feed(get("/e")))
    await d.step(S.RESPONSE_CLOSE, lambda: (setattr(d.protocol, "closing", True), d.gate("/e").set()))


async def scenario_discarding_ends(ending):
    d = Driver()
    await d.step(S.HEAD, d.feed(post_head("/d", 100)))
    await d.step(S.RESPONSE, d.release("/d"))
    action = {S.TIMEOUT: d.timeout(), S.PEER_CLOSED: d.peer_closes(),
              S.PROTOCOL_ERROR: d.feed(b"x" * 100 + BROKEN)}[ending]
    await d.step(ending, action)


async def scenario_lingering(ending):
    d = Driver()
    await d.step(S.HEAD, d.feed(post_head("/close", 100)))
    await d.step(S.RESPONSE_CLOSE, d.release("/close"))
    assert d.transport.eof_written
    await d.step(ending, d.timeout() if ending == S.TIMEOUT else d.peer_closes())


async def scenario_pipelined():
    d = Driver()
    await d.step(S.REQUEST, d.feed(get("/1")))
    await d.step(S.REQUEST, d.feed(get("/2")))
    await d.step(S.HEAD, d.feed(post_head("/3", 2)))
    await d.step(S.BODY_ENDS, d.feed(b"ab"))
    await d.step(S.RESPONSE_NEXT, d.release("/1"))
    await d.step(S.RESPONSE_NEXT, d.release("/2"))
    await d.step(S.RESPONSE, d.release("/3"))
    assert [w.count(b"HTTP/1.1 200 OK") for w in d.transport.writes] and \
        b"".join(d.transport.writes).count(b"HTTP/1.1 200 OK") == 3


async def scenario_app_fails():
    d = Driver()
    await d.step(S.REQUEST, d.feed(get("/fail")))
    await d.step(S.APP_FAILS, d.release("/fail"))
    assert d.transport.closed


async def scenario_broken_body():
    d = Driver()
    await d.step(S.HEAD, d.feed(b"POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"))
    await d.step(S.PROTOCOL_ERROR, d.feed(b"zz\r\n"))
    await d.step(S.APP_ENDS, d.release("/b"))
    assert b"HTTP/1.1 400 " in b"".join(d.transport.writes)


async def scenario_error_behind_a_response():
    d = Driver()
    await d.step(S.REQUEST, d.feed(get("/r")))
    await d.step(S.PROTOCOL_ERROR, d.feed(BROKEN))
    await d.step(S.APP_ENDS, d.release("/r"))
    written = b"".join(d.transport.writes)
    assert written.index(b"HTTP/1.1 200 OK") < written.index(b"HTTP/1.1 400 ")


async def scenario_peer_leaves_an_error_waiting():
    d = Driver()
    await d.step(S.REQUEST, d.feed(get("/r")))
    await d.step(S.PROTOCOL_ERROR, d.feed(BROKEN))
    await d.step(S.PEER_CLOSED, d.peer_closes())


async def scenario_upgrade(where):
    d = Driver()
    if where == S.READING_HEAD:
        await d.step(S.HEAD_BEGINS, d.feed(UPGRADE_HEAD[:20]))
        await d.step(S.UPGRADE, d.feed(UPGRADE_HEAD[20:]))
    else:
        await d.step(S.UPGRADE, d.feed(UPGRADE_HEAD))
    assert d.transport.protocol is not None and d.transport.protocol is not d.protocol


async def scenario_endings(where, ending):
    d = Driver()
    if where == S.READING_HEAD:
        await d.step(S.HEAD_BEGINS, d.feed(b"GET /x HTTP/1.1\r\n"))
    elif where == S.READING_BODY:
        await d.step(S.HEAD, d.feed(post_head("/x")))
    elif where == S.RESPONDING:
        await d.step(S.REQUEST, d.feed(get("/x")))
    action = {S.PROTOCOL_ERROR: d.feed(b"\x00\r\n\r\n"), S.TIMEOUT: d.timeout(), S.PEER_CLOSED: d.peer_closes()}[ending]
    await d.step(ending, action)


async def scenario_shutdown_closes_after_the_response():
    d = Driver()
    await d.step(S.REQUEST, d.feed(get("/s")))
    d.protocol.shutdown()
    await d.step(S.RESPONSE_CLOSE, d.release("/s"))
    assert b"connection: close" in b"".join(d.transport.writes)


SCENARIOS = [
    (scenario_keep_alive, {}), (scenario_body_then_close, {}), (scenario_discarding, {}),
    *((scenario_discarding_ends, {"ending": e}) for e in (S.TIMEOUT, S.PEER_CLOSED, S.PROTOCOL_ERROR)),
    *((scenario_lingering, {"ending": e}) for e in (S.TIMEOUT, S.PEER_CLOSED)),
    (scenario_pipelined, {}), (scenario_app_fails, {}), (scenario_broken_body, {}),
    (scenario_error_behind_a_response, {}), (scenario_peer_leaves_an_error_waiting, {}),
    *((scenario_upgrade, {"where": w}) for w in (S.IDLE, S.READING_HEAD)),
    # (A Content-Length body cannot break: scenario_broken_body breaks a chunked one. A response in
    # progress has no timeout of the server's: the app decides how long it takes.)
    *((scenario_endings, {"where": w, "ending": e})
      for w in (S.IDLE, S.READING_HEAD, S.READING_BODY, S.RESPONDING)
      for e in (S.PROTOCOL_ERROR, S.TIMEOUT, S.PEER_CLOSED)
      if (w, e) not in ((S.READING_BODY, S.PROTOCOL_ERROR), (S.RESPONDING, S.TIMEOUT))),
    (scenario_shutdown_closes_after_the_response, {}),
]


@pytest.mark.parametrize("scenario, case", SCENARIOS,
                         ids=[f.__name__[9:] + "".join(f"-{v}" for v in c.values()) for f, c in SCENARIOS])
async def test_the_protocol_follows_the_table(scenario, case):
    await scenario(**case)


async def test_every_row_of_the_table_is_met():
    MET.clear()
    for scenario, case in SCENARIOS:
        await scenario(**case)
    assert sorted(set(TABLE) - MET) == []


def test_the_table_is_a_function_of_state_and_event_and_names_only_known_states():
    rows = [(source, event) for source, event, _, _ in S.TRANSITIONS]
    assert len(rows) == len(set(rows))
    for source, _, target, _ in S.TRANSITIONS:
        assert source in S.STATES and target in S.STATES
    assert {target for _, _, target, _ in S.TRANSITIONS} | {S.IDLE} == set(S.STATES)
