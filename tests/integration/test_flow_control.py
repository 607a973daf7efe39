"""Writing meets the transport's flow control on every loop and Python: a connection whose client does not
read is paused once the transport holds more than its high-water mark, whichever way the pieces were handed
over (one write, or writelines for large pieces).

CPython 3.12.0-3.12.8 and 3.13.0-3.13.1 have an asyncio writelines that never pauses (gh-127655); CI runs
this suite on such versions, where the connection must not use it (connection.writelines_pauses)."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from asgicy.config import Config
from asgicy.server import connection
from asgicy.server.protocol import HTTPProtocol
from asgicy.server.server import ServerState


async def _connected_to_a_client_that_never_reads():
    """An HTTPProtocol on a real transport of the running loop, and the peer socket (which never reads)."""
    loop = asyncio.get_running_loop()

    async def app(scope, receive, send):  # never called: the test writes through the connection itself
        raise AssertionError(scope)

    state = ServerState(Config(app=app, access_log=False, lifespan="off"), app, loop)
    state.lifespan_state = {}
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    transport, protocol = await loop.connect_accepted_socket(lambda: HTTPProtocol(state), ours)
    return protocol, transport, theirs


@pytest.mark.parametrize("pieces", [1, 2, 4])
async def test_a_client_that_does_not_read_pauses_writing(pieces):
    protocol, transport, peer = await _connected_to_a_client_that_never_reads()
    try:
        piece = b"x" * (256 * 1024)
        for _ in range(40):  # 10-40 MiB, far past any socket buffer and the 64 KiB high-water mark
            if protocol.write_paused:
                break
            protocol.batch.extend([piece] * pieces)
            protocol.batch_size += len(piece) * pieces
            protocol.flush_batch()
            await asyncio.sleep(0)
        assert protocol.write_paused, f"{transport.get_write_buffer_size()} bytes buffered and still not paused"
        assert transport.get_write_buffer_size() < 4 * len(piece) * pieces + 1024 * 1024
    finally:
        transport.abort()
        peer.close()


def test_writelines_is_avoided_only_where_it_skips_flow_control():
    affected = (3, 12) <= sys.version_info[:3] < (3, 12, 9) or (3, 13) <= sys.version_info[:3] < (3, 13, 2)

    class SelectorLike:
        __module__ = "asyncio.selector_events"

    class Other:
        __module__ = "uvloop.loop"

    assert connection.writelines_pauses(SelectorLike()) is not affected
    assert connection.writelines_pauses(Other()) is True
