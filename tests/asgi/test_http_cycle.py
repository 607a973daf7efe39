"""HTTPCycle in memory: the ASGI http rules and the HTTP/1.1 framing, read off a recording sink."""

from __future__ import annotations

import asyncio
import logging

import pytest

from asgicy.asgi.errors import ASGIEventError, ClientDisconnected
from asgicy.asgi.http import DenialResponse
from asgicy.testing import RecordingSink

from .conftest import HTTPExchange

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
DEFAULT = RecordingSink.DATE + RecordingSink.SERVER
START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}


def post(body: bytes, *fields: bytes) -> bytes:
    extra = b"".join(f + b"\r\n" for f in fields)
    return b"POST /in HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n%b\r\n%b" % (len(body), extra, body)


def body(data: bytes, more: bool = False) -> dict:
    return {"type": "http.response.body", "body": data, "more_body": more}


class TestResponseFraming:
    async def test_a_whole_body_gets_its_content_length(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send(START)
        assert ex.sink.written == []  # the head waits for the first body event
        await ex.cycle.send(body(b"hello"))
        assert ex.sink.data == (b"HTTP/1.1 200 OK\r\n" + DEFAULT + b"content-type: text/plain\r\n"
                                b"content-length: 5\r\n\r\nhello")
        assert ex.sink.calls == [("response_complete",)]
        assert ex.cycle.response_done

    async def test_a_streamed_body_is_chunked_and_ends_with_the_last_chunk(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send(START)
        await ex.cycle.send(body(b"ab", True))
        assert ex.cycle.response_begun and not ex.cycle.response_done
        await ex.cycle.send(body(b"cde", True))
        await ex.cycle.send(body(b""))
        head, _, rest = ex.sink.data.partition(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head and b"content-length" not in head
        assert rest == b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"
        assert ex.sink.said("response_complete") == [("response_complete",)]

    async def test_http10_without_a_length_closes_to_end_the_body(self):
        ex = HTTPExchange(b"GET / HTTP/1.0\r\n\r\n")
        await ex.cycle.send(START)
        await ex.cycle.send(body(b"ab", True))
        await ex.cycle.send(body(b"c"))
        head, _, rest = ex.sink.data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and b"connection: close" in head
        assert b"chunked" not in head and rest == b"abc"
        assert not ex.cycle.keep_alive

    async def test_head_gets_the_length_but_no_body(self):
        ex = HTTPExchange(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
        await ex.cycle.send(START)
        await ex.cycle.send(body(b"hello"))
        assert ex.sink.data.endswith(b"content-length: 5\r\n\r\n")

    async def test_204_has_no_content_length(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send({"type": "http.response.start", "status": 204, "headers": [(b"content-length", b"0")]})
        await ex.cycle.send(body(b""))
        assert b"content-length" not in ex.sink.data.lower()

    async def test_the_apps_framing_headers_are_the_servers(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send({"type": "http.response.start", "status": 200,
                             "headers": [(b"Transfer-Encoding", b"gzip"), (b"Connection", b"close"),
                                         (b"Date", b"x"), (b"Server", b"mine")]})
        await ex.cycle.send(body(b"ok"))
        head = ex.sink.data.partition(b"\r\n\r\n")[0]
        assert b"Transfer-Encoding" not in head and b"connection: close" in head
        assert RecordingSink.DATE not in head and RecordingSink.SERVER not in head
        assert b"Date: x" in head and b"Server: mine" in head

    async def test_a_body_past_the_announced_length_is_refused(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        with pytest.raises(ASGIEventError, match="exceeds the Content-Length"):
            await ex.cycle.send(body(b"abc"))
        assert ex.sink.written == []

    async def test_a_large_body_is_written_beside_its_head(self):
        ex = HTTPExchange(GET)
        large = b"x" * (64 * 1024)
        await ex.cycle.send(START)
        await ex.cycle.send(body(large))
        assert len(ex.sink.written) == 2 and ex.sink.written[1] == large
        assert ex.sink.written[0].endswith(b"content-length: 65536\r\n\r\n")


class TestEventRules:
    @pytest.mark.parametrize("event, message", [
        ({"type": "http.response.body", "body": b""}, "expected 'http.response.start' first"),
        ({"type": "http.response.start", "status": 99}, "status"),
        ({"type": "http.response.start", "status": 200, "headers": [(b"a b", b"c")]}, "header"),
        ({"type": "http.response.start", "status": 200, "trailers": "yes"}, "trailers"),
        ({"type": "nonsense"}, "nonsense"),
    ])
    async def test_a_wrong_first_event_raises_naming_the_problem(self, event, message):
        ex = HTTPExchange(GET)
        with pytest.raises(ASGIEventError, match=message):
            await ex.cycle.send(event)
        assert ex.sink.written == [] and ex.sink.calls == []

    async def test_a_second_start_is_refused(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send(START)
        with pytest.raises(ASGIEventError, match="already started"):
            await ex.cycle.send(START)

    async def test_events_after_the_response_are_ignored_until_the_client_leaves(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send(START)
        await ex.cycle.send(body(b"x"))
        await ex.cycle.send(body(b"more"))  # ignored (ASGI HTTP spec)
        assert ex.sink.data.endswith(b"\r\n\r\nx")
        ex.cycle.disconnect()
        with pytest.raises(ClientDisconnected):
            await ex.cycle.send(body(b"more"))  # spec 2.4


class TestReceive:
    async def test_the_body_arrives_and_its_consumption_is_reported(self):
        ex = HTTPExchange(post(b"hello"))
        assert await ex.cycle.receive() == {"type": "http.request", "body": b"hello", "more_body": False}
        assert ex.sink.said("body_consumed") == [("body_consumed", 5)]

    async def test_receive_waits_for_body_then_for_the_end_of_the_response(self):
        ex = HTTPExchange(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n")
        reading = asyncio.ensure_future(ex.cycle.receive())
        await asyncio.sleep(0)
        assert not reading.done()
        ex.cycle.feed_body(b"ab")
        assert await reading == {"type": "http.request", "body": b"ab", "more_body": True}
        ex.cycle.feed_body(b"cd")
        ex.cycle.end_body()
        assert await ex.cycle.receive() == {"type": "http.request", "body": b"cd", "more_body": False}
        after = asyncio.ensure_future(ex.cycle.receive())
        await asyncio.sleep(0)
        assert not after.done()  # nothing to say until the response is done
        await ex.cycle.send(START)
        await ex.cycle.send(body(b""))
        assert await after == {"type": "http.disconnect"}

    async def test_a_disconnect_ends_receive_and_makes_send_raise(self):
        ex = HTTPExchange(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n")
        reading = asyncio.ensure_future(ex.cycle.receive())
        await asyncio.sleep(0)
        ex.cycle.disconnect()
        assert await reading == {"type": "http.disconnect"}
        with pytest.raises(ClientDisconnected):
            await ex.cycle.send(START)

    async def test_100_continue_is_written_when_the_app_first_asks_for_the_body(self):
        ex = HTTPExchange(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert ex.sink.written == []
        reading = asyncio.ensure_future(ex.cycle.receive())
        await asyncio.sleep(0)
        assert ex.sink.data == b"HTTP/1.1 100 Continue\r\n\r\n"
        ex.cycle.feed_body(b"ok")
        ex.cycle.end_body()
        assert (await reading)["body"] == b"ok"

    async def test_a_response_before_the_100_asks_for_a_small_body_and_keeps_the_connection(self):
        ex = HTTPExchange(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        await ex.cycle.send({"type": "http.response.start", "status": 413, "headers": []})
        await ex.cycle.send(body(b""))
        assert ex.sink.data.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 ")
        assert ex.cycle.keep_alive


class TestFlowControl:
    async def test_send_waits_while_the_sink_is_paused(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send(START)
        ex.sink.write_paused = True
        sending = asyncio.ensure_future(ex.cycle.send(body(b"a", True)))
        await asyncio.sleep(0)
        assert not sending.done() and ex.sink.said("drain")
        ex.sink.resume()
        await sending
        assert ex.sink.data.endswith(b"1\r\na\r\n")

    async def test_the_last_body_event_does_not_wait(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send(START)
        ex.sink.write_paused = True
        await ex.cycle.send(body(b"a"))  # nothing follows it: the app need not wait
        assert ex.cycle.response_done


class TestAppEndings:
    async def test_an_app_that_raises_before_responding_gets_a_500(self, caplog):
        async def app(scope, receive, send):
            raise ValueError("boom")

        ex = HTTPExchange(GET)
        with caplog.at_level(logging.ERROR, logger="asgicy.error"):
            await ex.run(app)
        assert ex.sink.data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert ex.sink.calls == [("response_complete",), ("app_finished",)]
        assert "Exception in ASGI application" in caplog.text

    async def test_an_app_that_fails_mid_body_aborts_the_response(self):
        async def app(scope, receive, send):
            await send(START)
            await send(body(b"part", True))
            raise ValueError("boom")

        ex = HTTPExchange(GET)
        await ex.run(app)
        assert ex.sink.calls == [("abort_response",), ("app_finished",)]
        assert b"500" not in ex.sink.data

    async def test_an_app_that_returns_without_responding_gets_a_500(self, caplog):
        async def app(scope, receive, send):
            pass

        ex = HTTPExchange(GET)
        await ex.run(app)
        assert b" 500 " in ex.sink.data and "without starting a response" in caplog.text

    async def test_an_exception_after_the_client_left_is_not_an_error(self, caplog):
        async def app(scope, receive, send):
            assert await receive() == {"type": "http.request", "body": b"", "more_body": False}
            ex.cycle.disconnect()
            assert (await receive())["type"] == "http.disconnect"
            raise RuntimeError("client gone")

        ex = HTTPExchange(GET)
        with caplog.at_level(logging.DEBUG, logger="asgicy.error"):
            await ex.run(app)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert ex.sink.written == [] and ex.sink.calls == [("app_finished",)]


class TestExtensions:
    async def test_pathsend_sends_the_file_through_the_sink(self):
        ex = HTTPExchange(GET, RecordingSink(files={"/srv/a.txt": b"file body"}))
        await ex.cycle.send(START)
        await ex.cycle.send({"type": "http.response.pathsend", "path": "/srv/a.txt"})
        assert ex.sink.data.endswith(b"content-length: 9\r\n\r\nfile body")
        assert [c[0] for c in ex.sink.calls] == ["open_file", "response_complete", "close_file"]
        assert ex.sink.open_files == {}

    async def test_pathsend_of_a_missing_file_raises_before_anything_is_written(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send(START)
        with pytest.raises(FileNotFoundError, match="cannot open the file"):
            await ex.cycle.send({"type": "http.response.pathsend", "path": "/srv/none"})
        assert ex.sink.written == []

    async def test_pathsend_needs_an_absolute_path(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send(START)
        with pytest.raises(ASGIEventError, match="absolute"):
            await ex.cycle.send({"type": "http.response.pathsend", "path": "a.txt"})

    async def test_zerocopysend_reads_from_the_files_position_and_moves_it(self):
        sink = RecordingSink()
        fd = sink.add_open_file(b"0123456789", position=4)
        ex = HTTPExchange(GET, sink)
        await ex.cycle.send(START)
        await ex.cycle.send({"type": "http.response.zerocopysend", "file": fd, "count": 3, "more_body": True})
        assert sink.file_position(fd) == 7
        await ex.cycle.send({"type": "http.response.zerocopysend", "file": fd, "offset": 0, "count": 2})
        assert sink.data.endswith(b"3\r\n456\r\n2\r\n01\r\n0\r\n\r\n")
        assert sink.file_position(fd) == 7  # an explicit offset leaves the position alone

    async def test_zerocopysend_refuses_what_is_not_a_regular_file(self):
        sink = RecordingSink()
        fd = sink.add_open_file(b"", regular=False)
        ex = HTTPExchange(GET, sink)
        await ex.cycle.send(START)
        with pytest.raises(ASGIEventError, match="not a regular file"):
            await ex.cycle.send({"type": "http.response.zerocopysend", "file": fd})

    async def test_trailers_follow_a_chunked_body_when_the_client_takes_them(self):
        ex = HTTPExchange(b"GET / HTTP/1.1\r\nHost: t\r\nTE: trailers\r\n\r\n")
        await ex.cycle.send({**START, "trailers": True})
        await ex.cycle.send(body(b"abc"))
        assert not ex.cycle.response_done
        await ex.cycle.send({"type": "http.response.trailers", "headers": [(b"grpc-status", b"0")]})
        assert ex.sink.data.endswith(b"3\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n")
        assert ex.cycle.response_done

    async def test_trailers_are_dropped_for_a_client_that_did_not_ask(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send({**START, "trailers": True})
        await ex.cycle.send(body(b"abc"))
        await ex.cycle.send({"type": "http.response.trailers", "headers": [(b"grpc-status", b"0")]})
        assert b"grpc-status" not in ex.sink.data and b"content-length: 3" in ex.sink.data

    async def test_an_early_hint_goes_before_the_head(self):
        ex = HTTPExchange(GET)
        await ex.cycle.send({"type": "http.response.early_hint", "links": [b"</a.css>; rel=preload"]})
        await ex.cycle.send(START)
        await ex.cycle.send(body(b""))
        assert ex.sink.data.startswith(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n"
                                       b"HTTP/1.1 200 OK\r\n")

    async def test_a_denial_response_knows_only_its_own_events(self):
        ex = HTTPExchange(GET, cycle_class=DenialResponse)
        with pytest.raises(ASGIEventError):
            await ex.cycle.send({"type": "http.response.pathsend", "path": "/a"})
        await ex.cycle.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await ex.cycle.send({"type": "websocket.http.response.body", "body": b"no"})
        assert ex.sink.data.startswith(b"HTTP/1.1 403 Forbidden\r\n") and ex.sink.data.endswith(b"\r\n\r\nno")
