"""Differential test: the Cython parser and the pure-Python reference must agree on every input.

Hypothesis builds requests from fragments that matter to framing (request lines, framing headers, chunked
bodies), mutates them, and cuts them at random points; both parsers must give the same events, or the same
error, however the input is split."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asgicy.http import _parser, reference
from asgicy.http.errors import HTTPProtocolError

from .helpers import normalize

EXAMPLES = int(os.environ.get("ASGICY_TEST_DIFF_EXAMPLES", "600"))

REQUEST_LINES = [b"GET / HTTP/1.1", b"POST /a?b=c HTTP/1.1", b"GET http://h/p HTTP/1.1", b"OPTIONS * HTTP/1.1",
                 b"GET / HTTP/1.0", b"GET / HTTP/2.0", b"CONNECT h:1 HTTP/1.1", b"G T / HTTP/1.1",
                 b"GET /\x00 HTTP/1.1"]
FIELDS = [b"Host: h", b"Host: h2", b"Content-Length: 5", b"Content-Length: 0", b"Content-Length: 3",
          b"Content-Length: x", b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked",
          b"Transfer-Encoding: chunked, identity", b"Connection: close", b"Connection: keep-alive",
          b"Connection: upgrade", b"Upgrade: websocket", b"Expect: 100-continue", b"X-A:  v ", b"X-B: \xff",
          b" folded", b"Bad Name: v", b"X: a\rb", b"Empty:"]
BODIES = [b"", b"hello", b"abc", b"5\r\nhello\r\n0\r\n\r\n", b"3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n", b"ff\r\n",
          b"0\r\n\r\n", b"5\r\nhelloX", b"z\r\n"]
CRLF = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b""])


@st.composite
def requests(draw):
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        head = draw(st.sampled_from(REQUEST_LINES)) + draw(CRLF)
        for field in draw(st.lists(st.sampled_from(FIELDS), max_size=5)):
            head += field + draw(CRLF)
        parts.append(head + draw(CRLF) + draw(st.sampled_from(BODIES)))
    data = bytearray(b"".join(parts))
    for _ in range(draw(st.integers(0, 3))):  # a few random mutations
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if op == "replace":
            data[i] = byte
        elif op == "insert":
            data.insert(i, byte)
        else:
            del data[i]
    return bytes(data)


def run(impl, data, cuts, limits):
    parser = impl.HTTPParser(**limits)
    events = []
    start = 0
    for cut in sorted(cuts) + [len(data)]:
        events += parser.feed(data[start:cut])
        start = cut
        if events and isinstance(events[-1], HTTPProtocolError):
            break  # later feeds only repeat the error
    trailing = parser.trailing_data() if parser.paused else None
    return normalize(impl, events), trailing


LIMITS = st.fixed_dictionaries({}, optional={
    "max_request_line_size": st.integers(1, 64), "max_header_size": st.integers(1, 200),
    "max_header_count": st.integers(0, 6), "max_body_size": st.integers(0, 10)})


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(requests(), st.binary(max_size=200)), cuts=st.lists(st.integers(0, 400), max_size=8),
       limits=LIMITS)
def test_cython_and_reference_agree(data, cuts, limits):
    cuts = [c for c in cuts if c <= len(data)]
    expected = run(reference, data, cuts, limits)
    assert run(_parser, data, cuts, limits) == expected
    # And the split never matters.
    assert run(reference, data, [], limits) == expected
