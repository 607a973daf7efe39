"""Differential test: the Cython framer and the reference agree on any bytes, however they are split."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asgicy.ws import _framer, reference
from asgicy.ws.deflate import Deflate
from asgicy.ws.errors import WebSocketProtocolError

from .test_framer import norm
from .wsframes import deflated, frame

EXAMPLES = int(os.environ.get("ASGICY_TEST_DIFF_EXAMPLES", "600"))

PAYLOADS = st.sampled_from([b"", b"hello", "h\u00e9llo \u2713 \U0001f600".encode(), b"\xed\xa0\x80", b"\xff",
                            b"\xe2\x82", b"\x82\xac", b"x" * 130, b"\x03\xe8bye", b"\x03", b"\x03\xed\xff",
                            b"\x0b\xb8", deflated(b"compressed " * 10), b"\x00" * 70])


@st.composite
def frames(draw):
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        opcode = draw(st.sampled_from([0, 1, 2, 8, 9, 10, 3, 11]))
        payload = draw(PAYLOADS)
        parts.append(frame(opcode, payload, fin=draw(st.booleans()), rsv=draw(st.sampled_from([0, 0, 0, 4, 2])),
                           mask=draw(st.sampled_from([b"\x37\xfa\x21\x3d", b"\x00\x00\x00\x00", None]))))
    data = bytearray(b"".join(parts))
    for _ in range(draw(st.integers(0, 2))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def run(module, data, cuts, max_size, compress):
    framer = module.Framer(max_size=max_size, deflate=Deflate() if compress else None)
    events = []
    start = 0
    for cut in sorted(cuts) + [len(data)]:
        events += framer.feed(data[start:cut])
        start = cut
        if events and isinstance(events[-1], WebSocketProtocolError):
            break
    return norm(events)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(frames(), st.binary(max_size=300)), cuts=st.lists(st.integers(0, 600), max_size=8),
       max_size=st.sampled_from([None, 0, 5, 100, 1000]), compress=st.booleans())
def test_cython_and_reference_agree(data, cuts, max_size, compress):
    cuts = [c for c in cuts if c <= len(data)]
    expected = run(reference, data, cuts, max_size, compress)
    assert run(_framer, data, cuts, max_size, compress) == expected
    assert run(reference, data, [], max_size, compress) == expected
