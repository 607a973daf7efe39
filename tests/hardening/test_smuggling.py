"""The smuggling corpus against a real server: no hidden request ever reaches the app."""

from __future__ import annotations

import asyncio

import pytest

from .smuggling_corpus import HIDDEN, REFUSED, UNAMBIGUOUS


def recording_app(seen):
    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                seen.append((scope["path"], body, "disconnected"))
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append((scope["path"], body, "complete"))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
    return app


async def exchange(running, data: bytes) -> tuple:
    """Sends the bytes; returns (everything the server sent, whether it closed the connection)."""
    reader, writer = await asyncio.open_connection(running.host, running.port)
    writer.write(data)
    received = b""
    closed = False
    try:
        while True:
            piece = await asyncio.wait_for(reader.read(65536), 2)
            if not piece:
                closed = True
                break
            received += piece
    except TimeoutError:
        pass
    finally:
        writer.close()
    return received, closed


@pytest.mark.parametrize("name, data, status", REFUSED, ids=[v[0] for v in REFUSED])
async def test_ambiguous_framing_is_refused(serve, name, data, status):
    seen = []
    async with serve(recording_app(seen)) as running:
        received, closed = await exchange(running, data)
    assert received.startswith(b"HTTP/1.1 %d " % status), received[:80]
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.startswith(b"content-length:")).split(b":")[1])
    assert len(body) == length and closed  # one response, then the close: nothing after it was read
    assert all(path != "/smuggled" for path, _, _ in seen)
    # The first request, if its head was fine, never looked complete to the app.
    assert all(state == "disconnected" for _, _, state in seen)


@pytest.mark.parametrize("name, data, body", UNAMBIGUOUS, ids=[v[0] for v in UNAMBIGUOUS])
async def test_unambiguous_framing_is_read_as_the_rfc_says(serve, name, data, body):
    seen = []
    async with serve(recording_app(seen)) as running:
        received, _ = await exchange(running, data)
    expected = [("/", body, "complete")]
    if not body.endswith(HIDDEN):
        expected.append(("/smuggled", b"", "complete"))  # the next request on the connection, in the open
    assert seen == expected
    assert received.count(b"HTTP/1.1 200 OK") == len(expected)


def test_the_corpus_hides_a_request_in_every_refused_vector():
    # A vector without the hidden request would test nothing about smuggling.
    assert all(HIDDEN in data or b"/smuggled" in data for _, data, _ in REFUSED)
    assert len({name for name, _, _ in REFUSED}) == len(REFUSED)
