"""The Cython HTTP/2 core against the pure-Python reference: for the same client bytes (real sessions from the
h2 library, mutated ones, arbitrary ones), split anywhere, both report the same events and send the same
bytes; and the same server actions (responses, data past the windows, resets) give the same frames."""

from __future__ import annotations

import random

import h2.config
import h2.connection
from hypothesis import given, settings
from hypothesis import strategies as st

from asgicy.h2 import _core, reference
from asgicy.h2.errors import H2ProtocolError
from asgicy.h2.events import RequestReceived
from asgicy.h2.grammar import PREFACE

from . import h2frames


def run(impl, pieces, respond=True, as_pieces=False, **options):
    """Feeds ``pieces`` one by one; answers each request with a response larger than the client's window.
    Returns everything observable: the events and the bytes out, in order (taken with pieces_to_send and
    joined, if ``as_pieces``)."""
    conn = impl.H2Connection(**options)
    conn.initiate()
    take = (lambda: b"".join(conn.pieces_to_send())) if as_pieces else conn.data_to_send
    seen = [take()]
    for piece in pieces:
        events = conn.feed(piece)
        seen.append(events)
        if respond:
            for event in events:
                if isinstance(event, RequestReceived):
                    conn.send_headers(event.stream_id, 200, [(b"content-type", b"text/plain")])
                    conn.send_data(event.stream_id, b"r" * 70000, True)
                    seen.append(conn.pending(event.stream_id))
        seen.append(take())
        if events and isinstance(events[-1], H2ProtocolError):
            break
    return seen


def split(data: bytes, rng: random.Random) -> list:
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randrange(0, 8)))) if len(data) > 1 else []
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]


def session(rng: random.Random) -> bytes:
    """A client's bytes from the h2 library: requests with bodies, window updates, pings, resets."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    client.initiate_connection()
    for _ in range(rng.randrange(1, 6)):
        stream_id = client.get_next_available_stream_id()
        body = rng.random() < 0.5
        client.send_headers(stream_id, [(b":method", b"POST" if body else b"GET"), (b":scheme", b"https"),
                                        (b":authority", b"example.com"), (b":path", b"/p%d" % stream_id),
                                        (b"x-n", b"%d" % rng.randrange(1000)), (b"cookie", b"a=1"),
                                        (b"cookie", b"b=2")], end_stream=not body)
        if body:
            client.send_data(stream_id, bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000))),
                             end_stream=rng.random() < 0.8)
        if rng.random() < 0.2:
            client.reset_stream(stream_id)
        if rng.random() < 0.3:
            client.ping(b"12345678")
        client.increment_flow_control_window(rng.randrange(1, 100000))
    return client.data_to_send()


def test_real_sessions_agree_however_split():
    rng = random.Random(9113)
    for _ in range(150):
        data = session(rng)
        pieces = split(data, rng)
        assert run(_core, pieces) == run(reference, pieces)
        assert run(_core, [data]) == run(reference, [data])


def test_pieces_to_send_join_to_the_same_bytes():
    """The Cython core leaves large DATA payloads uncopied, as pieces of their own: joined, its pieces are
    the reference's bytes, frame for frame."""
    rng = random.Random(8)
    for _ in range(20):
        pieces = split(session(rng), rng)
        assert run(_core, pieces, as_pieces=True) == run(reference, pieces) == run(_core, pieces)


def test_mutated_sessions_agree():
    rng = random.Random(7540)
    for _ in range(300):
        data = bytearray(session(rng))
        for _ in range(rng.randrange(1, 5)):
            data[rng.randrange(len(PREFACE), len(data))] = rng.randrange(256)
        pieces = split(bytes(data), rng)
        assert run(_core, pieces, max_concurrent_streams=3) == run(reference, pieces, max_concurrent_streams=3)


def test_abuse_vectors_agree():
    vectors = [
        h2frames.start() + b"".join(h2frames.request(i, end_stream=False) + h2frames.rst(i) for i in range(1, 900, 2)),
        h2frames.start() + h2frames.frame(h2frames.HEADERS, 0, 1, h2frames.block(*h2frames.GET))
        + h2frames.frame(h2frames.CONTINUATION, 0, 1, b"") * 100,
        h2frames.start() + h2frames.frame(h2frames.PING, 0, 0, b"12345678") * 1100,
        h2frames.start((4, 0)) + h2frames.request(1) + h2frames.window_update(1, 5),
    ]
    for data in vectors:
        assert run(_core, [data]) == run(reference, [data])


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_arbitrary_bytes_agree(data, cut):
    pieces = [PREFACE + data[:cut], data[cut:]]
    assert run(_core, pieces, respond=False) == run(reference, pieces, respond=False)
