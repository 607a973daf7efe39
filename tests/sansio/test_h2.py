"""The sans-I/O HTTP/2 core (RFC 9113): requests and responses with the python-hyper ``h2`` library as the
client, flow control both ways, every stream and connection error the core names, and the abuse bounds.

Each test runs against every implementation of the core (the ``h2_impl`` fixture)."""

from __future__ import annotations

import random
import struct

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

from asgicy.h2 import grammar as G
from asgicy.h2.errors import H2ProtocolError
from asgicy.h2.events import (
    DataReceived,
    GoAwayReceived,
    PingAcknowledged,
    RequestReceived,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)

from .h2frames import (
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    GET,
    HEADERS,
    PADDED,
    PING,
    PRIORITY,
    PRIORITY_FLAG,
    PUSH_PROMISE,
    block,
    frame,
    goaway_code,
    read_frames,
    request,
    resets,
    rst,
    settings,
    start,
    window_update,
)


def server(h2_impl, **options):
    conn = h2_impl.H2Connection(**options)
    conn.initiate()
    return conn


def client():
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    return conn


def exchange(srv, cli) -> list:
    """Client bytes to the server; the server's answer back to the client. Returns the server's events."""
    events = srv.feed(cli.data_to_send())
    cli.receive_data(srv.data_to_send())
    return events


def requests_of(events):
    return [e for e in events if isinstance(e, RequestReceived)]


# -- requests and responses -------------------------------------------------------------------------------------

def test_a_request_becomes_an_event_with_its_pseudo_headers_apart(h2_impl):
    srv, cli = server(h2_impl), client()
    cli.send_headers(1, [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.com"),
                         (b":path", b"/a?b=1"), (b"accept", b"*/*"), (b"cookie", b"a=1"), (b"x-one", b"1"),
                         (b"cookie", b"b=2")], end_stream=True)
    events = exchange(srv, cli)
    assert events == [RequestReceived(1, b"GET", b"https", b"example.com", b"/a?b=1", b"", [
        (b"accept", b"*/*"), (b"cookie", b"a=1; b=2"), (b"x-one", b"1")], -1, True)]


def test_a_response_reaches_the_client_whole(h2_impl):
    srv, cli = server(h2_impl), client()
    cli.send_headers(1, GET, end_stream=True)
    exchange(srv, cli)
    assert srv.send_headers(1, 200, [(b"content-type", b"text/plain"), (b"x-a", b"b")])
    assert srv.send_data(1, b"hello ", False)
    assert srv.send_data(1, b"world", True)
    events = cli.receive_data(srv.data_to_send())
    response = next(e for e in events if isinstance(e, h2.events.ResponseReceived))
    assert response.headers == [(b":status", b"200"), (b"content-type", b"text/plain"), (b"x-a", b"b")]
    assert b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived)) == b"hello world"
    assert any(isinstance(e, h2.events.StreamEnded) for e in events)
    assert srv.streams == {}  # closed both ways: forgotten


def test_server_preface_is_settings_then_the_connection_window(h2_impl):
    srv = server(h2_impl, max_concurrent_streams=7, initial_window_size=1000, connection_window_size=2**20)
    frames = read_frames(srv.data_to_send())
    assert frames[0][0] == G.SETTINGS and frames[0][2] == 0
    announced = dict(struct.unpack(">HI", frames[0][3][i:i + 6]) for i in range(0, len(frames[0][3]), 6))
    assert announced[G.SETTINGS_MAX_CONCURRENT_STREAMS] == 7
    assert announced[G.SETTINGS_INITIAL_WINDOW_SIZE] == 1000
    assert announced[G.SETTINGS_ENABLE_PUSH] == 0
    assert announced[G.SETTINGS_ENABLE_CONNECT_PROTOCOL] == 1
    assert frames[1] == (G.WINDOW_UPDATE, 0, 0, struct.pack(">I", 2**20 - 65535))


def test_settings_and_ping_are_answered(h2_impl):
    srv = server(h2_impl)
    srv.data_to_send()
    assert srv.feed(start((G.SETTINGS_MAX_FRAME_SIZE, 20000)) + frame(PING, 0, 0, b"12345678")) == []
    assert read_frames(srv.data_to_send()) == [(G.SETTINGS, 1, 0, b""), (G.PING, 1, 0, b"12345678")]
    srv.ping(b"abcdefgh")
    assert srv.feed(frame(PING, 1, 0, b"abcdefgh")) == [PingAcknowledged(b"abcdefgh")]


@pytest.mark.parametrize("split", ["whole", "bytewise", "random"])
def test_feeding_in_any_pieces_gives_the_same_events(h2_impl, split):
    wire = (start() + request(1, end_stream=False) + frame(DATA, 0, 1, b"x" * 100)
            + frame(DATA, PADDED, 1, b"\x03abc\x00\x00\x00") + frame(HEADERS, END_HEADERS | END_STREAM, 1,
                                                                      block((b"x-trailer", b"1")))
            + request(3) + frame(PING, 0, 0, b"ping1234"))
    reference = server(h2_impl).feed(wire)
    srv = server(h2_impl)
    if split == "whole":
        pieces = [wire]
    elif split == "bytewise":
        pieces = [wire[i:i + 1] for i in range(len(wire))]
    else:
        rng = random.Random(3)
        cuts = sorted(rng.sample(range(1, len(wire)), 12))
        pieces = [wire[a:b] for a, b in zip([0] + cuts, cuts + [len(wire)])]
    events = [event for piece in pieces for event in srv.feed(piece)]
    assert events == reference
    assert [type(e) for e in events] == [RequestReceived, DataReceived, DataReceived, TrailersReceived,
                                         RequestReceived]
    assert events[2].data == b"abc" and events[2].flow_length == 7  # pad length, data, padding
    assert events[3].headers == [(b"x-trailer", b"1")]


def test_response_trailers_follow_the_data(h2_impl):
    srv, cli = server(h2_impl), client()
    cli.send_headers(1, GET, end_stream=True)
    exchange(srv, cli)
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"body")
    srv.send_trailers(1, [(b"grpc-status", b"0")])
    events = cli.receive_data(srv.data_to_send())
    trailers = next(e for e in events if isinstance(e, h2.events.TrailersReceived))
    assert trailers.headers == [(b"grpc-status", b"0")]
    assert any(isinstance(e, h2.events.StreamEnded) for e in events)


def test_informational_responses_come_before_the_final_one(h2_impl):
    srv, cli = server(h2_impl), client()
    cli.send_headers(1, GET, end_stream=True)
    exchange(srv, cli)
    srv.send_headers(1, 103, [(b"link", b"</a.css>; rel=preload")])
    srv.send_headers(1, 200, [], end_stream=True)
    events = cli.receive_data(srv.data_to_send())
    assert isinstance(events[0], h2.events.InformationalResponseReceived)
    assert isinstance(events[1], h2.events.ResponseReceived)


def test_upgrade_from_http1_answers_on_stream_1(h2_impl):
    srv = h2_impl.H2Connection()
    srv.initiate_upgrade(struct.pack(">HI", G.SETTINGS_INITIAL_WINDOW_SIZE, 10))
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"0123456789abc", True)
    frames = read_frames(srv.data_to_send())
    data = [f for f in frames if f[0] == G.DATA]
    assert data == [(G.DATA, 0, 1, b"0123456789")]  # the client's 10-byte window from HTTP2-Settings
    assert srv.pending(1) == 3
    assert srv.feed(start() + window_update(1, 5)) == [WindowUpdated(1)]
    assert [f for f in read_frames(srv.data_to_send()) if f[0] == G.DATA] == [(G.DATA, END_STREAM, 1, b"abc")]


def test_goaway_lets_open_streams_finish_and_ignores_new_ones(h2_impl):
    srv = server(h2_impl)
    srv.feed(start() + request(1))
    srv.close()
    frames = read_frames(srv.data_to_send())
    assert frames[-1][0] == G.GOAWAY and frames[-1][3][:8] == struct.pack(">II", 1, 0)
    assert srv.feed(request(3)) == []  # after our GOAWAY: ignored (RFC 9113 6.8)
    assert srv.send_headers(1, 204, [], end_stream=True)
    assert srv.streams == {}


def test_client_goaway_is_reported(h2_impl):
    srv = server(h2_impl)
    assert srv.feed(start() + frame(G.GOAWAY, 0, 0, struct.pack(">II", 0, 0) + b"bye")) == [
        GoAwayReceived(0, 0, b"bye")]


def test_extended_connect_for_websocket(h2_impl):
    srv = server(h2_impl)
    fields = ((b":method", b"CONNECT"), (b":protocol", b"websocket"), (b":scheme", b"https"), (b":path", b"/ws"),
              (b":authority", b"example.com"), (b"sec-websocket-version", b"13"))
    [event] = srv.feed(start() + request(1, fields=fields, end_stream=False))
    assert event.method == b"CONNECT" and event.protocol == b"websocket" and event.path == b"/ws"
    srv = server(h2_impl, enable_connect_protocol=False)
    srv.feed(start() + request(1, fields=fields, end_stream=False))
    assert resets(srv.data_to_send()) == {1: G.PROTOCOL_ERROR}


# -- flow control ---------------------------------------------------------------------------------------------

def test_response_data_never_passes_the_stream_window(h2_impl):
    srv = server(h2_impl)
    srv.feed(start((G.SETTINGS_INITIAL_WINDOW_SIZE, 100)) + request(1))
    srv.data_to_send()
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"a" * 250, True)
    sent = [f for f in read_frames(srv.data_to_send()) if f[0] == G.DATA]
    assert sum(len(f[3]) for f in sent) == 100 and srv.pending(1) == 150
    assert srv.feed(window_update(1, 100)) == [WindowUpdated(1)]
    assert sum(len(f[3]) for f in read_frames(srv.data_to_send()) if f[0] == G.DATA) == 100
    srv.feed(window_update(1, 1000))
    last = [f for f in read_frames(srv.data_to_send()) if f[0] == G.DATA]
    assert [len(f[3]) for f in last] == [50] and last[-1][1] & END_STREAM


def test_response_data_never_passes_the_connection_window(h2_impl):
    srv = server(h2_impl)
    srv.feed(start((G.SETTINGS_INITIAL_WINDOW_SIZE, 2**20)) + request(1) + request(3))
    srv.data_to_send()
    for stream in (1, 3):
        srv.send_headers(stream, 200, [])
        srv.send_data(stream, b"b" * 50000, True)
    sent = sum(len(f[3]) for f in read_frames(srv.data_to_send()) if f[0] == G.DATA)
    assert sent == 65535  # the connection window the RFC starts with, shared by both streams
    assert srv.pending(1) + srv.pending(3) == 100000 - 65535
    events = srv.feed(window_update(0, 100000))
    assert WindowUpdated(3) in events
    assert srv.pending(1) + srv.pending(3) == 0


def test_a_settings_change_moves_every_stream_window(h2_impl):
    srv = server(h2_impl)
    srv.feed(start((G.SETTINGS_INITIAL_WINDOW_SIZE, 10)) + request(1))
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"c" * 30, True)
    srv.data_to_send()
    # The window grows by 30 (10 -> 40): the 20 bytes still waiting fit, and go.
    assert srv.feed(settings((G.SETTINGS_INITIAL_WINDOW_SIZE, 40))) == [WindowUpdated(1)]
    assert srv.pending(1) == 0


def test_frames_are_cut_to_the_clients_frame_size(h2_impl):
    srv = server(h2_impl)
    srv.feed(start((G.SETTINGS_INITIAL_WINDOW_SIZE, 2**20)) + window_update(0, 2**20) + request(1))
    srv.data_to_send()
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"d" * 40000, True)
    sizes = [len(f[3]) for f in read_frames(srv.data_to_send()) if f[0] == G.DATA]
    assert sizes == [16384, 16384, 7232]


def test_request_body_window_is_given_back_as_the_app_reads(h2_impl):
    srv, cli = server(h2_impl, initial_window_size=65535), client()
    exchange(srv, cli)
    cli.send_headers(1, [(b":method", b"POST"), *GET[1:]])
    for _ in range(4):
        cli.send_data(1, b"e" * 15000)
    events = srv.feed(cli.data_to_send())
    assert sum(len(e.data) for e in events if isinstance(e, DataReceived)) == 60000
    srv.data_to_send()
    srv.acknowledge(1, 60000)
    updates = [f for f in read_frames(srv.data_to_send()) if f[0] == G.WINDOW_UPDATE]
    assert (G.WINDOW_UPDATE, 0, 1, struct.pack(">I", 60000)) in updates


def test_data_past_the_window_is_a_flow_control_error(h2_impl):
    srv = server(h2_impl, initial_window_size=65535)
    srv.feed(start() + request(1, end_stream=False))
    srv.data_to_send()
    srv.feed(settings(ack=True))  # from now on our window of 65,535 is the rule
    srv.feed(b"".join(frame(DATA, 0, 1, b"f" * 16384) for _ in range(4)))
    assert resets(srv.data_to_send()) == {1: G.FLOW_CONTROL_ERROR}


def test_window_overflow(h2_impl):
    srv = server(h2_impl)
    srv.feed(start() + request(1, end_stream=False))
    srv.data_to_send()
    srv.feed(window_update(1, 2**31 - 1))
    assert resets(srv.data_to_send()) == {1: G.FLOW_CONTROL_ERROR}
    events = srv.feed(window_update(0, 2**31 - 1))
    assert isinstance(events[-1], H2ProtocolError) and events[-1].error_code == G.FLOW_CONTROL_ERROR


# -- stream errors (RFC 9113 8.1.1: a malformed request is a stream error PROTOCOL_ERROR) --------------------

MALFORMED = {
    "upper-case name": GET + ((b"X-Upper", b"1"),),
    "connection-specific field": GET + ((b"connection", b"keep-alive"),),
    "te not trailers": GET + ((b"te", b"gzip"),),
    "no :method": GET[1:],
    "no :path": GET[:3],
    "empty :path": GET[:3] + ((b":path", b""),),
    "relative :path": GET[:3] + ((b":path", b"a/b"),),
    "pseudo twice": GET + ((b":path", b"/x"),),
    "pseudo after regular": GET[:3] + ((b"x-a", b"1"), (b":path", b"/")),
    "response pseudo": GET + ((b":status", b"200"),),
    "unknown pseudo": GET + ((b":foo", b"1"),),
    ":protocol without CONNECT": GET + ((b":protocol", b"websocket"),),
    "CONNECT with :path": ((b":method", b"CONNECT"), (b":authority", b"a:443"), (b":path", b"/")),
    "newline in value": GET + ((b"x-a", b"1\n2"),),
    "leading space in value": GET + ((b"x-a", b" 1"),),
    "two content-lengths": GET + ((b"content-length", b"1"), (b"content-length", b"2")),
    "host differs from :authority": GET + ((b"host", b"other.example"),),
}


@pytest.mark.parametrize("fields", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_requests_reset_the_stream_only(h2_impl, fields):
    srv = server(h2_impl)
    assert srv.feed(start() + request(1, fields=fields) + request(3)) == [
        RequestReceived(3, b"GET", b"http", b"example.com", b"/", b"", [], -1, True)]
    assert resets(srv.data_to_send()) == {1: G.PROTOCOL_ERROR}


def test_content_length_must_match_the_body(h2_impl):
    srv = server(h2_impl)
    fields = ((b":method", b"POST"),) + GET[1:] + ((b"content-length", b"5"),)
    events = srv.feed(start() + request(1, fields=fields, end_stream=False) + frame(DATA, END_STREAM, 1, b"1234"))
    assert events[-1] == StreamReset(1, G.PROTOCOL_ERROR, False)
    assert resets(srv.data_to_send()) == {1: G.PROTOCOL_ERROR}


def test_self_dependency_is_a_stream_error(h2_impl):
    srv = server(h2_impl)
    srv.feed(start() + frame(PRIORITY, 0, 1, struct.pack(">IB", 1, 16)))
    assert resets(srv.data_to_send()) == {1: G.PROTOCOL_ERROR}
    payload = struct.pack(">IB", 3, 16) + block(*GET)
    srv.feed(frame(HEADERS, END_HEADERS | END_STREAM | PRIORITY_FLAG, 3, payload))
    assert resets(srv.data_to_send()) == {3: G.PROTOCOL_ERROR}


def test_data_on_a_half_closed_stream_is_stream_closed(h2_impl):
    srv = server(h2_impl)
    srv.feed(start() + request(1) + frame(DATA, 0, 1, b"late"))
    assert resets(srv.data_to_send()) == {1: G.STREAM_CLOSED}


def test_client_reset_is_reported(h2_impl):
    srv = server(h2_impl)
    events = srv.feed(start() + request(1, end_stream=False) + rst(1, G.CANCEL))
    assert events[-1] == StreamReset(1, G.CANCEL, True)
    assert srv.send_data(1, b"too late") is False  # a send on a reset stream is dropped, not an error


# -- connection errors ------------------------------------------------------------------------------------------

CONNECTION_ERRORS = {
    "bad preface": (b"GET / HTTP/1.1\r\n\r\n", G.PROTOCOL_ERROR),
    "DATA on stream 0": (start() + frame(DATA, 0, 0, b"x"), G.PROTOCOL_ERROR),
    "DATA on an idle stream": (start() + frame(DATA, 0, 1, b"x"), G.PROTOCOL_ERROR),
    "HEADERS on an even stream": (start() + request(2), G.PROTOCOL_ERROR),
    "a smaller stream id than before": (start() + request(5) + request(3), G.PROTOCOL_ERROR),
    "HEADERS on a closed stream": (start() + request(1, end_stream=False) + rst(1) + request(1), G.STREAM_CLOSED),
    "frame larger than SETTINGS_MAX_FRAME_SIZE": (start() + frame(DATA, 0, 1, b"x" * 16385), G.FRAME_SIZE_ERROR),
    "padding as long as the payload": (start() + request(1, end_stream=False) + frame(DATA, PADDED, 1, b"\x05abcd"),
                                      G.PROTOCOL_ERROR),
    "SETTINGS on a stream": (start() + frame(G.SETTINGS, 0, 1, b""), G.PROTOCOL_ERROR),
    "SETTINGS not a multiple of 6": (start() + frame(G.SETTINGS, 0, 0, b"\x00\x01\x00"), G.FRAME_SIZE_ERROR),
    "SETTINGS ACK with payload": (start() + frame(G.SETTINGS, 1, 0, b"\x00" * 6), G.FRAME_SIZE_ERROR),
    "ENABLE_PUSH 2": (start((G.SETTINGS_ENABLE_PUSH, 2)), G.PROTOCOL_ERROR),
    "INITIAL_WINDOW_SIZE 2^31": (start((G.SETTINGS_INITIAL_WINDOW_SIZE, 2**31)), G.FLOW_CONTROL_ERROR),
    "MAX_FRAME_SIZE too small": (start((G.SETTINGS_MAX_FRAME_SIZE, 16383)), G.PROTOCOL_ERROR),
    "PING on a stream": (start() + frame(PING, 0, 1, b"12345678"), G.PROTOCOL_ERROR),
    "PING of 7 bytes": (start() + frame(PING, 0, 0, b"1234567"), G.FRAME_SIZE_ERROR),
    "PUSH_PROMISE from a client": (start() + frame(PUSH_PROMISE, END_HEADERS, 1, b"\x00\x00\x00\x02"),
                                   G.PROTOCOL_ERROR),
    "RST_STREAM on stream 0": (start() + rst(0), G.PROTOCOL_ERROR),
    "RST_STREAM on an idle stream": (start() + rst(1), G.PROTOCOL_ERROR),
    "RST_STREAM of 3 bytes": (start() + request(1) + frame(G.RST_STREAM, 0, 1, b"\x00\x00\x00"), G.FRAME_SIZE_ERROR),
    "WINDOW_UPDATE of 0 on the connection": (start() + window_update(0, 0), G.PROTOCOL_ERROR),
    "WINDOW_UPDATE on an idle stream": (start() + window_update(1, 1), G.PROTOCOL_ERROR),
    "PRIORITY on stream 0": (start() + frame(PRIORITY, 0, 0, b"\x00" * 5), G.PROTOCOL_ERROR),
    "CONTINUATION without HEADERS": (start() + frame(CONTINUATION, END_HEADERS, 1, block(*GET)), G.PROTOCOL_ERROR),
    "another frame inside a header block": (start() + frame(HEADERS, 0, 1, block(*GET)) + frame(PING, 0, 0, b"1" * 8),
                                            G.PROTOCOL_ERROR),
    "CONTINUATION on another stream": (start() + frame(HEADERS, 0, 1, block(*GET))
                                       + frame(CONTINUATION, END_HEADERS, 3, b""), G.PROTOCOL_ERROR),
    "broken HPACK": (start() + frame(HEADERS, END_HEADERS, 1, b"\x80"), G.COMPRESSION_ERROR),
    "table size above our setting": (start() + frame(HEADERS, END_HEADERS, 1, b"\x3f\xe2\x1f" + block(*GET)),
                                     G.COMPRESSION_ERROR),
    "GOAWAY on a stream": (start() + frame(G.GOAWAY, 0, 1, b"\x00" * 8), G.PROTOCOL_ERROR),
}


@pytest.mark.parametrize("wire, code", CONNECTION_ERRORS.values(), ids=CONNECTION_ERRORS.keys())
def test_connection_errors_send_goaway_with_the_rfc_code(h2_impl, wire, code):
    srv = server(h2_impl)
    srv.data_to_send()
    events = srv.feed(wire)
    assert isinstance(events[-1], H2ProtocolError) and events[-1].error_code == code
    assert goaway_code(srv.data_to_send()) == code
    assert srv.feed(request(7)) == [events[-1]]  # latched: nothing more is read
    assert srv.data_to_send() == b""


def test_unknown_frame_types_are_ignored(h2_impl):
    srv = server(h2_impl)
    assert srv.feed(start() + frame(0xFA, 0xFF, 0, b"whatever") + request(1))[0].stream_id == 1


# -- abuse: each bounded ----------------------------------------------------------------------------------------

def test_too_many_concurrent_streams_are_refused(h2_impl):
    srv = server(h2_impl, max_concurrent_streams=3)
    events = srv.feed(start() + b"".join(request(i) for i in (1, 3, 5, 7, 9)))
    assert [e.stream_id for e in requests_of(events)] == [1, 3, 5]
    assert resets(srv.data_to_send()) == {7: G.REFUSED_STREAM, 9: G.REFUSED_STREAM}
    srv.send_headers(1, 204, [], end_stream=True)  # one finishes: there is room again
    assert requests_of(srv.feed(request(11)))[0].stream_id == 11


def test_rapid_reset_gets_enhance_your_calm(h2_impl):
    srv = server(h2_impl)
    wire = start() + b"".join(request(i, end_stream=False) + rst(i) for i in range(1, 2 * 400, 2))
    events = srv.feed(wire)
    assert isinstance(events[-1], H2ProtocolError) and events[-1].error_code == G.ENHANCE_YOUR_CALM
    assert len(requests_of(events)) == h2_impl.RESETS_ALLOWED + 1  # bounded: then the connection ends
    assert goaway_code(srv.data_to_send()) == G.ENHANCE_YOUR_CALM


def test_resets_are_forgiven_by_completed_streams(h2_impl):
    srv = server(h2_impl)
    srv.feed(start())
    for i in range(1, 4 * h2_impl.RESETS_ALLOWED, 4):  # a reset, then a stream answered, over and over
        srv.feed(request(i, end_stream=False) + rst(i) + request(i + 2))
        srv.send_headers(i + 2, 204, [], end_stream=True)
    assert goaway_code(srv.data_to_send()) is None


def test_continuation_flood_is_bounded(h2_impl):
    srv = server(h2_impl)
    wire = start() + frame(HEADERS, 0, 1, block(*GET)) + frame(CONTINUATION, 0, 1, b"\x00" * 16384) * 20
    events = srv.feed(wire)
    assert isinstance(events[-1], H2ProtocolError) and events[-1].error_code == G.ENHANCE_YOUR_CALM
    # Empty CONTINUATION frames add no bytes but are counted too.
    srv = server(h2_impl)
    events = srv.feed(start() + frame(HEADERS, 0, 1, block(*GET)) + frame(CONTINUATION, 0, 1, b"") * 100)
    assert events[-1].error_code == G.ENHANCE_YOUR_CALM


def test_a_header_block_split_in_continuations_is_fine(h2_impl):
    srv = server(h2_impl)
    whole = block(*GET, (b"x-a", b"y" * 100))
    events = srv.feed(start() + frame(HEADERS, END_STREAM, 1, whole[:10]) + frame(CONTINUATION, 0, 1, whole[10:50])
                      + frame(CONTINUATION, END_HEADERS, 1, whole[50:]))
    assert events[0].headers == [(b"x-a", b"y" * 100)]


@pytest.mark.parametrize("flood", ["ping", "settings", "empty data", "priority"])
def test_floods_of_frames_without_progress_get_enhance_your_calm(h2_impl, flood):
    srv = server(h2_impl)
    one = {"ping": frame(PING, 0, 0, b"12345678"), "settings": settings(),
           "empty data": frame(DATA, 0, 1, b""), "priority": frame(PRIORITY, 0, 3, struct.pack(">IB", 0, 1))}[flood]
    events = srv.feed(start() + request(1, end_stream=False) + one * (h2_impl.MAX_IDLE_FRAMES + 10))
    assert isinstance(events[-1], H2ProtocolError) and events[-1].error_code == G.ENHANCE_YOUR_CALM
    answers = [f for f in read_frames(srv.data_to_send()) if f[0] in (G.PING, G.SETTINGS) and f[1] & 1]
    assert len(answers) <= h2_impl.MAX_IDLE_FRAMES + 1  # what it made the server queue is bounded too


def test_a_few_pings_between_requests_are_fine(h2_impl):
    srv = server(h2_impl)
    srv.feed(start())
    for i in range(1, 200, 2):
        events = srv.feed(frame(PING, 0, 0, b"12345678") * 20 + request(i))
        assert not any(isinstance(e, H2ProtocolError) for e in events)


def test_hpack_bomb_gets_431_and_the_connection_goes_on(h2_impl):
    srv = server(h2_impl, max_header_list_size=16384)
    big = b"v" * 4000
    entry = b"\x40\x01a\x7f\xa1\x1e" + big  # literal with indexing (RFC 7541 6.2.1): a = 4000 bytes
    bomb = block(*GET) + entry + b"\xbe" * 4000  # 4 KB more on the wire decodes to 16 MB
    events = srv.feed(start() + frame(HEADERS, END_HEADERS | END_STREAM, 1, bomb) + request(3))
    assert [e.stream_id for e in requests_of(events)] == [3]
    frames = read_frames(srv.data_to_send())
    headers = [f for f in frames if f[0] == G.HEADERS and f[2] == 1]
    from hpack import Decoder
    assert Decoder().decode(headers[0][3], raw=True)[0] == (b":status", b"431")
    # The table stayed in step: index 62 is the 4000-byte entry the bomb inserted.
    events = srv.feed(frame(HEADERS, END_HEADERS | END_STREAM, 5, block(*GET) + b"\xbe"))
    assert requests_of(events)[0].headers == [(b"a", big)]


def test_zero_window_holds_data_in_the_stream_only(h2_impl):
    srv = server(h2_impl)
    srv.feed(start((G.SETTINGS_INITIAL_WINDOW_SIZE, 0)) + request(1))
    srv.data_to_send()
    srv.send_headers(1, 200, [])
    srv.send_data(1, b"g" * 100000)
    assert [f for f in read_frames(srv.data_to_send()) if f[0] == G.DATA] == []
    assert srv.pending(1) == 100000  # the server layer stops the app at its high-water mark


def test_large_data_goes_out_as_the_apps_own_bytes(h2_impl):
    """pieces_to_send: the frames in order; the Cython core hands a large DATA payload over as the app's
    bytes object itself (no copy), the reference as one joined piece. Either way, joined, the same frames."""
    srv = h2_impl.H2Connection()
    srv.initiate()
    srv.feed(start() + request(1))
    srv.data_to_send()
    body = bytes(range(256)) * 40  # 10,240 bytes: one frame, large enough to go uncopied
    srv.send_headers(1, 200, [(b"content-length", b"10240")])
    srv.send_data(1, body, True)
    pieces = srv.pieces_to_send()
    joined = b"".join(pieces)
    assert joined[-len(body):] == body and joined[-len(body) - 9:-len(body)][3] == G.DATA
    if h2_impl.IMPLEMENTATION == "cython":
        assert any(piece is body for piece in pieces)
    else:
        assert len(pieces) == 1
    assert srv.pieces_to_send() == [] and srv.data_to_send() == b""
