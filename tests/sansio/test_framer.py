"""The WebSocket framer against RFC 6455 and RFC 7692, for both implementations, fed every way."""

from __future__ import annotations

import struct

import pytest

from asgicy.ws import errors as E
from asgicy.ws import reference
from asgicy.ws.deflate import Deflate, negotiate
from asgicy.ws.errors import Close, Ping, Pong, WebSocketProtocolError

from .wsframes import close, deflated, frame, text


@pytest.fixture(params=["cython", "python"])
def ws(request):
    if request.param == "cython":
        from asgicy.ws import _framer
        return _framer
    return reference


def norm(events):
    out = []
    for ev in events:
        if isinstance(ev, (Ping, Pong)):
            out.append((type(ev).__name__, ev.payload))
        elif isinstance(ev, Close):
            out.append(("Close", ev.code, ev.reason))
        elif isinstance(ev, WebSocketProtocolError):
            out.append(("error", ev.close_code, ev.reason))
        else:
            out.append(ev)
    return out


def feed_every_way(ws, data: bytes, **kw):
    """Whole, byte by byte, and followed by more frames: the events must be the same each way."""
    def run(chunks):
        framer = ws.Framer(**kw)
        events = []
        for chunk in chunks:
            events += framer.feed(chunk)
            if events and isinstance(events[-1], WebSocketProtocolError):
                break
        return norm(events)

    whole = run([data])
    assert run([data[i:i + 1] for i in range(len(data))]) == whole
    trailing = run([data + text("after")])
    if whole and (whole[-1][0] in ("error", "Close") if isinstance(whole[-1], tuple) else False):
        assert trailing == whole  # nothing is read after a close or an error
    else:
        assert trailing == whole + ["after"]
    return whole


def error(events):
    assert events and events[-1][0] == "error", events
    return events[-1][1:]


class TestDataFrames:  # RFC 6455 5.6
    def test_text_and_binary(self, ws):
        data = text("héllo ✓") + frame(2, b"\x00\xff" * 300) + frame(2, b"x" * 70000) + text("")
        assert feed_every_way(ws, data) == ["héllo ✓", b"\x00\xff" * 300, b"x" * 70000, ""]

    def test_unmasking_at_every_offset(self, ws):
        for n in range(0, 20):
            payload = bytes(range(n))
            assert ws.Framer().feed(frame(2, payload)) == [payload]


class TestFragmentation:  # RFC 6455 5.4
    def test_fragments_are_assembled_with_control_frames_between(self, ws):
        data = (text("Hel", fin=False) + frame(9, b"ping!") + frame(0, b"lo, ", fin=False) + frame(10, b"")
                + frame(0, b"", fin=False) + frame(0, "wörld".encode()))
        assert feed_every_way(ws, data) == [("Ping", b"ping!"), ("Pong", b""), "Hello, wörld"]

    def test_continuation_without_message(self, ws):
        assert error(feed_every_way(ws, frame(0, b"x"))) == (1002, E.UNEXPECTED_CONTINUATION)

    def test_new_message_inside_fragmented_one(self, ws):
        assert error(feed_every_way(ws, text("a", fin=False) + text("b"))) == (1002, E.EXPECTED_CONTINUATION)

    def test_message_type_survives_empty_fragments(self, ws):
        # Found by fuzzing: a final fragment after empty ones took the single-frame path with the frame's
        # opcode (continuation) instead of the message's, so the text came out as bytes, unchecked.
        assert feed_every_way(ws, frame(1, b"", fin=False) + frame(0, b"", fin=False) + frame(0, b"ok")) == ["ok"]
        assert feed_every_way(ws, frame(2, b"", fin=False) + frame(0, b"\x81")) == [b"\x81"]
        assert error(feed_every_way(ws, frame(1, b"", fin=False) + frame(0, b"\x81"))) == (1007, E.INVALID_UTF8)

    def test_utf8_split_across_fragments(self, ws):
        data = "€".encode()
        assert feed_every_way(ws, frame(1, data[:1], fin=False) + frame(0, data[1:])) == ["€"]


class TestFramingErrors:  # RFC 6455 5.2, 5.5
    @pytest.mark.parametrize("data, reason", [
        (frame(1, b"x", rsv=2), E.RESERVED_BITS),  # RSV2
        (frame(1, b"x", rsv=1), E.RESERVED_BITS),  # RSV3
        (frame(1, b"x", rsv=4), E.RSV1_WITHOUT_DEFLATE),
        (frame(3, b"x"), E.RESERVED_OPCODE),
        (frame(11, b"x"), E.RESERVED_OPCODE),
        (frame(9, b"x", fin=False), E.FRAGMENTED_CONTROL),
        (frame(9, b"x" * 126), E.CONTROL_TOO_LONG),
        (frame(9, b"x", rsv=4), E.RSV1_ON_CONTROL),
        (frame(1, b"x", mask=None), E.UNMASKED),
        (frame(2, b"", length=1 << 63), E.INVALID_LENGTH),
    ])
    def test_protocol_errors_are_1002(self, ws, data, reason):
        assert error(feed_every_way(ws, data)) == (1002, reason)

    def test_errors_fail_at_the_first_two_bytes(self, ws):
        assert norm(ws.Framer().feed(frame(1, b"x", mask=None)[:2])) == [("error", 1002, E.UNMASKED)]

    def test_size_limit_is_1009_before_the_payload_arrives(self, ws):
        framer = ws.Framer(max_size=10)
        assert norm(framer.feed(frame(2, b"x" * 11)[:8])) == [("error", 1009, E.TOO_BIG)]
        assert feed_every_way(ws, frame(2, b"x" * 10), max_size=10) == [b"x" * 10]
        data = frame(2, b"x" * 6, fin=False) + frame(0, b"x" * 5)
        assert error(feed_every_way(ws, data, max_size=10)) == (1009, E.TOO_BIG)


class TestUTF8:  # RFC 6455 8.1
    @pytest.mark.parametrize("payload", [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                         b"a\xe2\x28\xa1", b"\xe2\x82"])
    def test_invalid_text_is_1007(self, ws, payload):
        assert error(feed_every_way(ws, frame(1, payload))) == (1007, E.INVALID_UTF8)

    @pytest.mark.parametrize("prefix", [b"\xed\xa0", b"\xf4\x90", b"\xe0\x80", b"ok\xff"])
    def test_fails_as_soon_as_the_bad_byte_arrives(self, ws, prefix):
        # The frame says 100 bytes follow; only the bad prefix has arrived.
        data = frame(1, prefix + b"a" * (100 - len(prefix)))
        header = len(data) - 100
        assert norm(ws.Framer().feed(data[:header + len(prefix)])) == [("error", 1007, E.INVALID_UTF8)]

    def test_fails_in_a_fragment_before_the_message_ends(self, ws):
        assert norm(ws.Framer().feed(frame(1, b"ok", fin=False) + frame(0, b"\xed\xa0\x80", fin=False))) == [
            ("error", 1007, E.INVALID_UTF8)]

    def test_every_valid_boundary_character(self, ws):
        s = "\x00\x7f\x80\u07ff\u0800\uffff\U00010000\U0010ffff\ud7ff\ue000"
        assert feed_every_way(ws, text(s)) == [s]


class TestClose:  # RFC 6455 5.5.1, 7.4
    def test_close_with_code_and_reason(self, ws):
        assert feed_every_way(ws, close(1001, "bye ✓".encode())) == [("Close", 1001, "bye ✓")]

    def test_empty_close_is_1005(self, ws):
        assert feed_every_way(ws, close()) == [("Close", 1005, "")]

    @pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                                      3000, 3999, 4000, 4999])
    def test_valid_codes(self, ws, code):
        assert feed_every_way(ws, close(code)) == [("Close", code, "")]

    @pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
    def test_invalid_codes_are_1002(self, ws, code):
        assert error(feed_every_way(ws, close(code))) == (1002, E.INVALID_CLOSE_CODE)

    def test_one_byte_payload_is_1002(self, ws):
        assert error(feed_every_way(ws, frame(8, b"\x03"))) == (1002, E.CLOSE_PAYLOAD_ONE_BYTE)

    def test_invalid_reason_is_1007(self, ws):
        assert error(feed_every_way(ws, close(1000, b"\xff"))) == (1007, E.INVALID_CLOSE_REASON)

    def test_nothing_after_close(self, ws):
        framer = ws.Framer()
        assert norm(framer.feed(close(1000) + text("late"))) == [("Close", 1000, "")]
        assert framer.closed and framer.feed(text("later")) == []


class TestSerializing:  # RFC 6455 5.2: server frames are not masked
    def test_frames(self, ws):
        framer = ws.Framer()
        assert framer.text("hé") == b"\x81\x03h\xc3\xa9"
        assert framer.binary(b"\x00" * 126)[:4] == b"\x82\x7e\x00\x7e"
        assert framer.binary(b"\x00" * 65536)[:10] == b"\x82\x7f" + struct.pack("!Q", 65536)
        assert framer.ping(b"p") == b"\x89\x01p" and framer.pong(b"") == b"\x8a\x00"
        assert framer.close(1000, "ok") == b"\x88\x04\x03\xe8ok" and framer.close(1005) == b"\x88\x00"

    def test_round_trip_through_the_other_side(self, ws):
        import wsproto.frame_protocol as fp
        proto = fp.FrameProtocol(client=True, extensions=[])
        framer = ws.Framer()
        proto.receive_bytes(framer.text("x" * 70000) + framer.binary(b"\x01\x02") + framer.close(4000, "done"))
        frames = list(proto.received_frames())
        assert [f.payload for f in frames[:2]] == ["x" * 70000, b"\x01\x02"]
        assert frames[2].payload == (4000, "done")


class TestPerMessageDeflate:  # RFC 7692
    def test_compressed_text_and_fragments(self, ws):
        payload = deflated(b"hello hello hello hello")
        data = frame(1, payload, rsv=4) + frame(2, payload[:3], rsv=4, fin=False) + frame(0, payload[3:])
        assert feed_every_way(ws, data, deflate=Deflate()) == ["hello hello hello hello",
                                                               b"hello hello hello hello"]

    def test_uncompressed_message_on_a_deflate_connection(self, ws):
        assert feed_every_way(ws, text("plain"), deflate=Deflate()) == ["plain"]

    def test_rsv1_on_continuation_is_1002(self, ws):
        data = frame(1, b"a", rsv=4, fin=False) + frame(0, b"b", rsv=4)
        assert error(feed_every_way(ws, data, deflate=Deflate())) == (1002, E.RSV1_ON_CONTINUATION)

    def test_bomb_is_stopped_at_the_size_limit(self, ws):
        bomb = deflated(b"\x00" * 10_000_000)
        assert len(bomb) < 20_000
        framer = ws.Framer(max_size=1_000_000, deflate=Deflate())
        assert norm(framer.feed(frame(2, bomb, rsv=4))) == [("error", 1009, E.TOO_BIG)]

    def test_corrupt_data_is_1007(self, ws):
        assert error(feed_every_way(ws, frame(2, b"\xff\xff\xff\xff", rsv=4), deflate=Deflate())) == (
            1007, E.INVALID_COMPRESSED)

    def test_server_messages_decompress_on_the_client(self, ws):
        import zlib
        framer = ws.Framer(deflate=Deflate())
        for message in ("first message", "first message again"):  # context takeover across messages
            out = framer.text(message)
            assert out[0] == 0xC1  # FIN, RSV1, text
            assert out[2:] != message.encode()
        d = zlib.decompressobj(wbits=-15)
        frames = [framer.text(m) for m in ("abc abc abc", "abc abc abc")]
        assert [d.decompress(f[2:] + b"\x00\x00\xff\xff") for f in frames] == [b"abc abc abc"] * 2
        assert len(frames[1]) < len(frames[0])  # the second reused the first's window

    @pytest.mark.parametrize("header, expected", [
        ([b"permessage-deflate"], b"permessage-deflate"),
        ([b"permessage-deflate; client_max_window_bits"], b"permessage-deflate"),
        ([b"permessage-deflate; server_no_context_takeover; client_max_window_bits=10"],
         b"permessage-deflate; server_no_context_takeover; client_max_window_bits=10"),
        ([b"permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9"],
         b"permessage-deflate; server_max_window_bits=9"),
        ([b"x-webkit-deflate-frame", b"permessage-deflate; client_no_context_takeover"],
         b"permessage-deflate; client_no_context_takeover"),
        ([b"permessage-deflate; server_max_window_bits"], None),
        ([b"permessage-deflate; server_max_window_bits=16"], None),
        ([b"permessage-deflate; unknown=1"], None),
        ([b"permessage-deflate; server_no_context_takeover; server_no_context_takeover"], None),
        ([b"permessage-deflate; server_no_context_takeover=1"], None),
        ([b"perm\xc3\xa9ssage-deflate"], None),
    ])
    def test_negotiation(self, header, expected):
        deflate = negotiate(header)
        assert (deflate.response_header() if deflate else None) == expected
