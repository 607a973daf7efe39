"""The request state machine the docs draw (``grammar.TRANSITIONS``) is the one both parsers follow:
every move they make, fed one byte at a time, is a listed edge, and every listed edge is taken."""

from __future__ import annotations

from asgicy.http.grammar import CLOSED, ERROR, PAUSED, STATE_NAMES, TRANSITIONS

CHUNKED = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
UPGRADE = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: x\r\n"
CORPUS = [
    # one request per way a message can end (keep-alive, close, upgrade after no body, a body, chunks)
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    UPGRADE + b"\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    UPGRADE + b"Content-Length: 3\r\n\r\nabc",
    CHUNKED,
    CHUNKED.replace(b"Host: a\r\n", b"Host: a\r\nConnection: close\r\n"),
    CHUNKED.replace(b"Host: a\r\n", b"Host: a\r\nConnection: Upgrade\r\nUpgrade: x\r\n"),
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost a\r\n\r\n",  # a protocol error
]


def walk(impl, data: bytes) -> set:
    parser = impl.HTTPParser()
    moves = set()
    state = parser.state
    for i in range(len(data)):
        parser.feed(data[i:i + 1])
        if parser.state != state:
            moves.add((state, parser.state))
            state = parser.state
        if state == PAUSED:
            parser.resume()
            moves.add((state, parser.state))
            state = parser.state
    return moves


def test_parsers_move_only_along_the_documented_edges(impl):
    documented = {(a, b) for a, b, _ in TRANSITIONS}
    seen = set()
    for data in CORPUS:
        seen |= walk(impl, data)
    errors = {move for move in seen if move[1] == ERROR}
    assert errors and all(move[0] not in (CLOSED, ERROR) for move in errors)
    named = lambda moves: sorted((STATE_NAMES[a], STATE_NAMES[b]) for a, b in moves)  # noqa: E731
    assert named(seen - errors - documented) == [], "moves the docs do not show"
    assert named(documented - seen) == [], "documented moves no input takes"
