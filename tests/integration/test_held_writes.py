"""What reads write is held to the end of the event loop's turn, then handed over connection by connection
(ServerState.flush_held in server/connection.py).

The order of one connection's bytes must survive it: a write made after the read while the read's output
is still held (by a task woken before the flush's callback) joins it rather than overtaking it. And the holding
must never lose or stall anything: a connection that closes meanwhile is skipped, a transport that fails
does not keep the others' responses back.
"""

from __future__ import annotations

import asyncio

from asgicy.config import Config
from asgicy.server.protocol import HTTPProtocol
from asgicy.server.server import ServerState

from .wire import RecordingTransport, Wire

REQUEST = b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n"


async def text(send, body: bytes, more: bool = False) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": more})


async def start(send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"6")]})


def connections(app, count: int, fail: tuple = ()) -> tuple:
    state = ServerState(Config(app=app, access_log=False, lifespan="off"), app, asyncio.get_running_loop())
    state.lifespan_state = {}
    made = []
    for n in range(count):
        protocol = HTTPProtocol(state)
        transport = RecordingTransport(fail=n in fail)
        protocol.connection_made(transport)
        made.append((protocol, transport))
    return state, made


async def turns(count: int = 10) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_reads_of_one_turn_write_after_all_of_them():
    async def app(scope, receive, send):
        await start(send)
        await text(send, scope["path"].encode()[:6].ljust(6))

    state, made = connections(app, 3)
    seen_before_flush = []

    def one_turn_of_reads() -> None:  # as the event loop calls protocols: every ready read, one turn
        for n, (protocol, transport) in enumerate(made):
            protocol.data_received(REQUEST % b"c%d" % n)
            seen_before_flush.append(len(transport.writes))

    asyncio.get_running_loop().call_soon(one_turn_of_reads)
    await turns()
    assert seen_before_flush == [0, 0, 0]  # nothing went out while the turn's reads were handled
    for n, (protocol, transport) in enumerate(made):
        assert len(transport.writes) == 1  # then one write per connection
        assert transport.writes[0].startswith(b"HTTP/1.1 200 ") and transport.writes[0].endswith(b"/c%d   " % n)
        assert not protocol.output_held
    assert state.held_connections == []


async def test_a_write_after_the_read_joins_held_output_instead_of_overtaking_it():
    # A write made outside a read while the read's output waits for the flush (a task woken before the
    # flush's turn callback, say) must go behind that output, not straight to the transport ahead of it.
    async def app(scope, receive, send):  # never called here
        raise AssertionError

    state, [(protocol, transport)] = connections(app, 1)
    seen = []

    def a_read_then_a_write() -> None:
        protocol.collecting = True  # as data_received does while it handles a read
        protocol.write(b"first ")
        protocol.end_collecting()
        seen.append((protocol.output_held, list(transport.writes)))
        protocol.write(b"second ")
        protocol.write_two(b"third ", b"fourth")
        seen.append(list(transport.writes))

    asyncio.get_running_loop().call_soon(a_read_then_a_write)
    await turns()
    assert seen == [(True, []), []]  # held, and the later writes held behind it
    assert b"".join(transport.writes) == b"first second third fourth"
    assert len(transport.writes) == 1 and not protocol.output_held


async def test_an_app_that_suspends_mid_response_sends_its_pieces_in_order():
    async def app(scope, receive, send):
        await start(send)
        await text(send, b"abc", more=True)
        await asyncio.sleep(0)
        await text(send, b"def")

    state, [(protocol, transport)] = connections(app, 1)
    asyncio.get_running_loop().call_soon(protocol.data_received, REQUEST % b"")
    await turns()
    wire = b"".join(transport.writes)
    assert wire.startswith(b"HTTP/1.1 200 ") and wire.endswith(b"\r\n\r\nabcdef")


async def test_a_connection_lost_while_held_is_skipped():
    async def app(scope, receive, send):
        await start(send)
        await text(send, b"ok    ")

    state, [(gone, gone_transport), (stays, stays_transport)] = connections(app, 2)

    def reads_then_a_loss() -> None:
        gone.data_received(REQUEST % b"")
        stays.data_received(REQUEST % b"")
        gone.connection_lost(ConnectionResetError())

    asyncio.get_running_loop().call_soon(reads_then_a_loss)
    await turns()
    assert gone_transport.writes == []
    assert b"".join(stays_transport.writes).endswith(b"ok    ")


async def test_a_failing_transport_does_not_hold_back_the_others(caplog):
    async def app(scope, receive, send):
        await start(send)
        await text(send, b"ok    ")

    state, made = connections(app, 3, fail=(1,))

    def reads() -> None:
        for protocol, _ in made:
            protocol.data_received(REQUEST % b"")

    asyncio.get_running_loop().call_soon(reads)
    await turns()
    assert [len(transport.writes) for _, transport in made] == [1, 0, 1]
    assert made[1][1].aborted and not made[0][1].aborted
    assert "writing to 127.0.0.1:50000 failed" in caplog.text
    assert state.held_connections == []


async def test_responses_to_many_connections_arrive_whole(serve):
    # End to end, over sockets: many clients whose requests land in the same turns, each answered in order.
    async def app(scope, receive, send):
        body = scope["path"].encode() * 50
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async with serve(app) as running:
        wires = [await Wire.open(running) for _ in range(20)]
        for round_ in range(5):
            for n, wire in enumerate(wires):
                await wire.send(REQUEST % b"%d-%d" % (n, round_) * 2)  # two pipelined each
            for n, wire in enumerate(wires):
                for _ in range(2):
                    assert (await wire.response()).body == b"/%d-%d" % (n, round_) * 50
        for wire in wires:
            await wire.close()
