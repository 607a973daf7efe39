"""The HTTP/1.1 request parser, against RFC 9112 and RFC 9110, for both implementations.

Every input goes through ``feed_all_modes``: whole, byte by byte, and followed by trailing data."""

from __future__ import annotations

import pytest

from asgicy.http import errors as E

from .helpers import error_of, feed, feed_all_modes

H = b"Host: example.com\r\n"


def head(events):
    assert events[0][0] == "request", events
    _, method, target, path, query, version, headers, keep_alive, expect, upgrade, length = events[0]
    return dict(method=method, target=target, path=path, query=query, version=version, headers=headers,
                keep_alive=keep_alive, expect_continue=expect, upgrade=upgrade, content_length=length)


class TestRequestLine:  # RFC 9112 section 3
    def test_simple_get(self, impl):
        events = feed_all_modes(impl, b"GET /index.html?a=1&b=%20 HTTP/1.1\r\n" + H + b"\r\n")
        h = head(events)
        assert (h["method"], h["path"], h["query"], h["version"]) == (b"GET", b"/index.html", b"a=1&b=%20", "1.1")
        assert h["target"] == b"/index.html?a=1&b=%20"
        assert h["keep_alive"] and h["content_length"] == 0
        assert events[1:] == [("end", [])]

    def test_query_may_contain_question_marks(self, impl):
        h = head(feed_all_modes(impl, b"GET /p??x=? HTTP/1.1\r\n" + H + b"\r\n"))
        assert (h["path"], h["query"]) == (b"/p", b"?x=?")

    def test_absolute_form_takes_path_and_query(self, impl):  # RFC 9112 section 3.2.2
        h = head(feed_all_modes(impl, b"GET HTTP://Example.com:8080/a/b?c HTTP/1.1\r\n" + H + b"\r\n"))
        assert (h["path"], h["query"]) == (b"/a/b", b"c")
        h = head(feed_all_modes(impl, b"GET https://example.com HTTP/1.1\r\n" + H + b"\r\n"))
        assert (h["path"], h["query"]) == (b"/", b"")
        h = head(feed_all_modes(impl, b"GET http://example.com?q=1 HTTP/1.1\r\n" + H + b"\r\n"))
        assert (h["path"], h["query"]) == (b"/", b"q=1")

    def test_options_asterisk(self, impl):  # RFC 9112 section 3.2.4
        h = head(feed_all_modes(impl, b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n"))
        assert (h["method"], h["path"], h["query"]) == (b"OPTIONS", b"*", b"")

    def test_asterisk_needs_options(self, impl):
        assert error_of(feed_all_modes(impl, b"GET * HTTP/1.1\r\n" + H + b"\r\n")) == (400, E.ASTERISK_NOT_OPTIONS)

    def test_leading_empty_lines_are_ignored(self, impl):  # RFC 9112 section 2.2
        h = head(feed_all_modes(impl, b"\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n"))
        assert h["path"] == b"/"

    def test_extension_methods_are_tokens(self, impl):
        assert head(feed_all_modes(impl, b"PURGE-ALL / HTTP/1.1\r\n" + H + b"\r\n"))["method"] == b"PURGE-ALL"

    @pytest.mark.parametrize("method", [b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"PATCH", b"OPTIONS",
                                        b"GETS", b"GE", b"get", b"TRACE"])
    def test_methods_are_kept_as_sent(self, impl, method):
        assert head(feed_all_modes(impl, method + b" / HTTP/1.1\r\n" + H + b"\r\n"))["method"] == method

    @pytest.mark.parametrize("line, message", [
        (b"GET /", E.MALFORMED_REQUEST_LINE),
        (b"GET / HTTP/1.1 extra", E.MALFORMED_VERSION),
        (b"GET  / HTTP/1.1", E.MALFORMED_REQUEST_LINE),
        (b" GET / HTTP/1.1", E.INVALID_METHOD),
        (b"\x16\x03\x01\x02\x00", E.INVALID_METHOD),
        (b"GET", E.MALFORMED_REQUEST_LINE),
        (b"G(T / HTTP/1.1", E.INVALID_METHOD),
        (b"GET\t/ HTTP/1.1", E.MALFORMED_REQUEST_LINE),
        (b"GET /a\x00b HTTP/1.1", E.INVALID_TARGET_BYTE),
        (b"GET /a\tb HTTP/1.1", E.INVALID_TARGET_BYTE),
        (b"GET /a\rb HTTP/1.1", E.INVALID_TARGET_BYTE),
        (b"GET /a\x7fb HTTP/1.1", E.INVALID_TARGET_BYTE),
        (b"GET /caf\xc3\xa9 HTTP/1.1", E.INVALID_TARGET_BYTE),
        (b"GET /a#frag HTTP/1.1", E.INVALID_TARGET_BYTE),
        (b"GET /a b HTTP/1.1", E.MALFORMED_VERSION),
        (b"GET a/b HTTP/1.1", E.INVALID_TARGET),
        (b"GET ftp://x/ HTTP/1.1", E.INVALID_TARGET),
        (b"GET http:/// HTTP/1.1", E.INVALID_TARGET),
        (b"GET / http/1.1", E.MALFORMED_VERSION),
        (b"GET / HTTP/1.10", E.MALFORMED_VERSION),
        (b"GET / HTTP/1", E.MALFORMED_VERSION),
        (b"GET / HTTP/1.1\r", E.MALFORMED_VERSION),
    ])
    def test_malformed_request_lines_are_400(self, impl, line, message):
        assert error_of(feed_all_modes(impl, line + b"\r\n" + H + b"\r\n")) == (400, message)

    @pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0", b"HTTP/9.9"])
    def test_unknown_major_version_is_505(self, impl, version):
        assert error_of(feed_all_modes(impl, b"GET / " + version + b"\r\n" + H + b"\r\n")) == (
            505, E.UNSUPPORTED_VERSION)

    def test_higher_minor_version_is_treated_as_1_1(self, impl):  # RFC 9112 section 2.3
        assert head(feed_all_modes(impl, b"GET / HTTP/1.7\r\n" + H + b"\r\n"))["version"] == "1.1"

    def test_connect_is_501(self, impl):
        data = b"CONNECT example.com:443 HTTP/1.1\r\n" + H + b"\r\n"
        assert error_of(feed_all_modes(impl, data)) == (501, E.CONNECT_UNSUPPORTED)

    def test_non_http_is_refused_at_its_first_byte(self, impl):
        assert error_of(feed(impl, b"\x16\x03\x01")) == (400, E.INVALID_METHOD)

    def test_bare_lf_is_400(self, impl):
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\n" + H + b"\r\n")) == (400, E.BARE_LF)
        assert error_of(feed_all_modes(impl, b"\nGET / HTTP/1.1\r\n" + H + b"\r\n")) == (400, E.BARE_LF)

    def test_request_line_limit_is_414(self, impl):
        line = b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n"  # 116 bytes with CRLF
        assert head(feed_all_modes(impl, line + H + b"\r\n", max_request_line_size=116))["method"] == b"GET"
        assert error_of(feed_all_modes(impl, line + H + b"\r\n", max_request_line_size=115)) == (
            414, E.REQUEST_LINE_TOO_LONG)
        # Refused before the line ends: the parser does not buffer an endless line.
        assert error_of(feed(impl, b"GET /" + b"a" * 200, max_request_line_size=115)) == (414, E.REQUEST_LINE_TOO_LONG)


class TestHeaderFields:  # RFC 9112 section 5, RFC 9110 section 5
    def test_names_lowercased_values_trimmed_order_and_duplicates_kept(self, impl):
        data = (b"GET / HTTP/1.1\r\nHost: h\r\nX-A:  one \t\r\nx-a:two\r\nEmpty:\r\nEmpty2: \t \r\n"
                b"Obs: caf\xe9 \xff\r\n\r\n")
        assert head(feed_all_modes(impl, data))["headers"] == [
            (b"host", b"h"), (b"x-a", b"one"), (b"x-a", b"two"), (b"empty", b""), (b"empty2", b""),
            (b"obs", b"caf\xe9 \xff")]

    def test_one_letter_names_leave_the_interpreter_alone(self, impl):
        # CPython shares one object per single byte; lowercasing a one-letter name must not write to it.
        feed(impl, b"GET / HTTP/1.1\r\nHost: h\r\nZ: 1\r\nQ:2\r\n\r\n")
        # Compare values, not objects: b"Z" on both sides would be that same shared object.
        assert b"xZ"[1:2][0] == 0x5A and bytes([0x51])[0] == 0x51

    @pytest.mark.parametrize("length", [1, 31, 32, 33, 100])
    def test_names_of_any_length_are_lowercased(self, impl, length):
        # The compiled parser lowers names of up to 32 bytes on the stack and longer ones in place.
        name = (b"X-Ab" * 30)[:length]
        data = b"GET / HTTP/1.1\r\n" + H + name + b": v\r\n" + name.upper() + b":w\r\n\r\n"
        assert head(feed_all_modes(impl, data))["headers"][1:] == [(name.lower(), b"v"), (name.lower(), b"w")]

    @pytest.mark.parametrize("name", [b"USER-AGENT", b"Content-Type", b"Sec-WebSocket-Key", b"x-forwarded-for",
                                      b"Upgrade-Insecure-Requests", b"Accept-Encodings", b"hosts"])
    def test_common_names_in_any_case(self, impl, name):
        # Known names are shared objects in the compiled parser; near misses are names of their own.
        data = b"GET / HTTP/1.1\r\n" + H + name + b": v\r\n\r\n"
        assert head(feed_all_modes(impl, data))["headers"][1] == (name.lower(), b"v")

    def test_value_keeps_inner_whitespace_and_colons(self, impl):
        data = b"GET / HTTP/1.1\r\nHost: h:80\r\nX: a  b\tc: d\r\n\r\n"
        assert head(feed_all_modes(impl, data))["headers"] == [(b"host", b"h:80"), (b"x", b"a  b\tc: d")]

    @pytest.mark.parametrize("line, message", [
        (b"X-A : v", E.WHITESPACE_BEFORE_COLON),
        (b"X-A\t: v", E.WHITESPACE_BEFORE_COLON),
        (b" X-A: v", E.OBS_FOLD),
        (b"X-A v", E.NO_COLON),
        (b": v", E.EMPTY_HEADER_NAME),
        (b"X(A): v", E.INVALID_HEADER_NAME),
        (b"X\x00A: v", E.INVALID_HEADER_NAME),
        (b"X\rA: v", E.INVALID_HEADER_NAME),
        (b"X-A: v\x00w", E.invalid_value_byte(0)),
        (b"X-A: v\rw", E.invalid_value_byte(13)),
        (b"X-A: v\x7fw", E.invalid_value_byte(0x7F)),
        (b"X-A: v\x1bw", E.invalid_value_byte(0x1B)),
    ])
    def test_malformed_fields_are_400(self, impl, line, message):
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\r\n" + H + line + b"\r\n\r\n")) == (400, message)

    def test_obs_fold_continuation_is_400(self, impl):
        data = b"GET / HTTP/1.1\r\n" + H + b"X-A: one\r\n two\r\n\r\n"
        assert error_of(feed_all_modes(impl, data)) == (400, E.OBS_FOLD)

    def test_whitespace_before_first_field_is_400(self, impl):
        data = b"GET / HTTP/1.1\r\n " + H + b"\r\n"
        assert error_of(feed_all_modes(impl, data)) == (400, E.OBS_FOLD)

    def test_bare_lf_in_headers_is_400(self, impl):
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\r\nHost: a\n\r\n")) == (400, E.BARE_LF)
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\r\nHost: a\r\n\n")) == (400, E.BARE_LF)

    def test_header_block_limit_is_431(self, impl):
        fields = H + b"X: " + b"v" * 50 + b"\r\n"
        size = len(fields) + 2
        assert head(feed_all_modes(impl, b"GET / HTTP/1.1\r\n" + fields + b"\r\n", max_header_size=size))
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\r\n" + fields + b"\r\n", max_header_size=size - 1)) == (
            431, E.HEADERS_TOO_LARGE)
        # An endless header line is refused before it ends.
        assert error_of(feed(impl, b"GET / HTTP/1.1\r\nX: " + b"v" * 500, max_header_size=100)) == (
            431, E.HEADERS_TOO_LARGE)

    def test_header_count_limit_is_431(self, impl):
        fields = H + b"".join(b"X-%d: v\r\n" % i for i in range(9))
        assert head(feed_all_modes(impl, b"GET / HTTP/1.1\r\n" + fields + b"\r\n", max_header_count=10))
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\r\n" + fields + b"\r\n", max_header_count=9)) == (
            431, E.TOO_MANY_HEADERS)


class TestHost:  # RFC 9112 section 3.2
    def test_http11_without_host_is_400(self, impl):
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\r\n\r\n")) == (400, E.HOST_REQUIRED)

    def test_two_hosts_are_400(self, impl):
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n")) == (
            400, E.TOO_MANY_HOSTS)
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")) == (
            400, E.TOO_MANY_HOSTS)

    def test_empty_host_is_allowed(self, impl):
        assert head(feed_all_modes(impl, b"GET / HTTP/1.1\r\nHost:\r\n\r\n"))["headers"] == [(b"host", b"")]

    def test_http10_needs_no_host(self, impl):
        h = head(feed_all_modes(impl, b"GET / HTTP/1.0\r\n\r\n"))
        assert h["version"] == "1.0" and not h["keep_alive"]


class TestConnection:  # RFC 9112 section 9
    @pytest.mark.parametrize("version, header, keep_alive", [
        (b"1.1", b"", True),
        (b"1.1", b"Connection: close\r\n", False),
        (b"1.1", b"Connection: Keep-Alive, CLOSE\r\n", False),
        (b"1.0", b"", False),
        (b"1.0", b"Connection: keep-alive\r\n", True),
        (b"1.0", b"Connection: Keep-Alive\r\n", True),
    ])
    def test_keep_alive(self, impl, version, header, keep_alive):
        data = b"GET / HTTP/" + version + b"\r\n" + H + header + b"\r\n"
        assert head(feed_all_modes(impl, data))["keep_alive"] is keep_alive

    def test_nothing_is_parsed_after_a_closing_request(self, impl):
        data = b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\nGET /smuggled HTTP/1.1\r\n" + H + b"\r\n"
        events = feed(impl, data)
        assert [e[0] for e in events] == ["request", "end"]

    def test_pipelined_requests_in_order(self, impl):
        data = b"".join(b"GET /%d HTTP/1.1\r\n" % i + H + b"\r\n" for i in range(5))
        events = feed_all_modes(impl, data)
        assert [e[3] for e in events if e[0] == "request"] == [b"/%d" % i for i in range(5)]

    def test_upgrade_pauses_and_hands_over_the_rest(self, impl):
        parser = impl.HTTPParser()
        events = parser.feed(b"GET /ws HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n\x81\x05")
        assert events[0].upgrade == b"websocket" and isinstance(events[1], impl.EndOfMessage)
        assert parser.paused and parser.feed(b"hello") == []
        assert parser.trailing_data() == b"\x81\x05hello"

    def test_declined_upgrade_resumes(self, impl):
        parser = impl.HTTPParser()
        parser.feed(b"GET / HTTP/1.1\r\n" + H + b"Connection: upgrade\r\nUpgrade: h2c\r\n\r\nGET /2 HTTP/1.1\r\n" + H)
        events = parser.resume() + parser.feed(b"\r\n")
        assert events[0].path == b"/2" and not parser.paused

    def test_upgrade_header_without_connection_token_is_ignored(self, impl):
        assert head(feed_all_modes(impl, b"GET / HTTP/1.1\r\n" + H + b"Upgrade: websocket\r\n\r\n"))["upgrade"] is None

    def test_in_head(self, impl):
        parser = impl.HTTPParser()
        assert not parser.in_head
        parser.feed(b"GE")
        assert parser.in_head
        parser.feed(b"T / HTTP/1.1\r\n" + H + b"\r\n")
        assert not parser.in_head


class TestExpect:  # RFC 9110 section 10.1.1
    def test_100_continue(self, impl):
        assert head(feed_all_modes(impl, b"POST / HTTP/1.1\r\n" + H + b"Expect: 100-Continue\r\n"
                                   b"Content-Length: 0\r\n\r\n"))["expect_continue"]

    def test_http10_expectation_is_ignored(self, impl):
        assert not head(feed_all_modes(impl, b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"))["expect_continue"]

    def test_unknown_expectation_is_417(self, impl):
        assert error_of(feed_all_modes(impl, b"GET / HTTP/1.1\r\n" + H + b"Expect: teapot\r\n\r\n")) == (
            417, E.UNSUPPORTED_EXPECT)


class TestContentLength:  # RFC 9112 section 6.2, 6.3
    def test_body(self, impl):
        events = feed_all_modes(impl, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 11\r\n\r\nhello world")
        assert head(events)["content_length"] == 11
        assert events[1:] == [("data", b"hello world"), ("end", [])]

    def test_body_then_pipelined_request(self, impl):
        data = b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\n" + H + b"\r\n"
        events = feed_all_modes(impl, data)
        assert [e[0] for e in events] == ["request", "data", "end", "request", "end"]

    def test_identical_duplicates_are_accepted(self, impl):
        events = feed_all_modes(impl, b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 2\r\nContent-Length: 02\r\n\r\nab")
        assert events[1] == ("data", b"ab")

    @pytest.mark.parametrize("fields, message", [
        (b"Content-Length: 2\r\nContent-Length: 3\r\n", E.CONFLICTING_CONTENT_LENGTH),
        (b"Content-Length: 2, 2\r\n", E.INVALID_CONTENT_LENGTH),
        (b"Content-Length: +2\r\n", E.INVALID_CONTENT_LENGTH),
        (b"Content-Length: -1\r\n", E.INVALID_CONTENT_LENGTH),
        (b"Content-Length: 0x10\r\n", E.INVALID_CONTENT_LENGTH),
        (b"Content-Length: 1 2\r\n", E.INVALID_CONTENT_LENGTH),
        (b"Content-Length:\r\n", E.INVALID_CONTENT_LENGTH),
        (b"Content-Length: 1234567890123456789\r\n", E.INVALID_CONTENT_LENGTH),
        (b"Content-Length: \xd9\xa3\r\n", E.INVALID_CONTENT_LENGTH),
    ])
    def test_bad_lengths_are_400(self, impl, fields, message):
        assert error_of(feed_all_modes(impl, b"POST / HTTP/1.1\r\n" + H + fields + b"\r\n")) == (400, message)

    def test_body_limit_is_413(self, impl):
        data = b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 11\r\n\r\nhello world"
        assert feed_all_modes(impl, data, max_body_size=11)[1] == ("data", b"hello world")
        assert error_of(feed_all_modes(impl, data, max_body_size=10)) == (413, E.BODY_TOO_LARGE)


class TestTransferEncoding:  # RFC 9112 sections 6.1 and 7
    def chunked(self, body: bytes, te: bytes = b"chunked") -> bytes:
        return b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: " + te + b"\r\n\r\n" + body

    def test_chunked_body_with_extensions_and_trailers(self, impl):
        body = b"5\r\nhello\r\n9;name=val;q=\"x y\"\r\n, world!!\r\n0;last\r\nX-Sum: 1\r\nY:2\r\n\r\n"
        events = feed_all_modes(impl, self.chunked(body))
        assert head(events)["content_length"] == -1
        assert events[1:] == [("data", b"hello, world!!"), ("end", [(b"x-sum", b"1"), (b"y", b"2")])]

    def test_hex_sizes_either_case_and_leading_zeros(self, impl):
        body = b"a\r\n0123456789\r\nA\r\n0123456789\r\n0000b\r\nhello world\r\n0\r\n\r\n"
        assert feed_all_modes(impl, self.chunked(body))[1] == ("data", b"0123456789" * 2 + b"hello world")

    def test_bws_before_extension(self, impl):  # RFC 9112 section 7.1.1
        assert feed_all_modes(impl, self.chunked(b"2 ;a=b\r\nok\r\n0\r\n\r\n"))[1] == ("data", b"ok")

    @pytest.mark.parametrize("extension", [b";a", b" ; a = b", b';a="x\\"y";b', b";a;b=c;d", b';a="\t\x80"',
                                           b";a=b\t"])
    def test_extension_grammar(self, impl, extension):  # RFC 9112 7.1.1, RFC 9110 5.6.4
        assert feed_all_modes(impl, self.chunked(b"2" + extension + b"\r\nok\r\n0\r\n\r\n"))[1] == ("data", b"ok")

    def test_te_list_trimmed_case_insensitive(self, impl):
        assert head(feed_all_modes(impl, self.chunked(b"0\r\n\r\n", te=b" Chunked ")))["content_length"] == -1

    def test_chunked_then_pipelined(self, impl):
        data = self.chunked(b"1\r\na\r\n0\r\n\r\n") + b"GET /2 HTTP/1.1\r\n" + H + b"\r\n"
        assert [e[0] for e in feed_all_modes(impl, data)] == ["request", "data", "end", "request", "end"]

    @pytest.mark.parametrize("te, status, message", [
        (b"chunked, chunked", 400, E.CHUNKED_TWICE),
        (b"chunked, gzip", 400, E.CHUNKED_NOT_LAST),
        (b"gzip, chunked", 501, E.UNSUPPORTED_TE),
        (b"gzip", 501, E.UNSUPPORTED_TE),
        (b"identity", 501, E.UNSUPPORTED_TE),
        (b"chunked, ", 400, E.MALFORMED_TE),
        (b", chunked", 400, E.MALFORMED_TE),
        (b"chun\"ked", 400, E.MALFORMED_TE),
        (b"", 400, E.MALFORMED_TE),
    ])
    def test_bad_transfer_codings(self, impl, te, status, message):
        assert error_of(feed_all_modes(impl, self.chunked(b"0\r\n\r\n", te=te))) == (status, message)

    def test_repeated_te_headers_are_one_list(self, impl):
        data = b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        assert error_of(feed_all_modes(impl, data)) == (400, E.CHUNKED_TWICE)

    def test_te_with_content_length_is_400(self, impl):
        data = b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        assert error_of(feed_all_modes(impl, data)) == (400, E.TE_WITH_CL)

    def test_te_in_http10_is_400(self, impl):
        data = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        assert error_of(feed_all_modes(impl, data)) == (400, E.TE_IN_HTTP10)

    @pytest.mark.parametrize("body, message", [
        (b"x\r\n", E.INVALID_CHUNK_SIZE),
        (b" 5\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_SIZE),
        (b"5 \r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_SIZE),
        (b"5x\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_SIZE),
        (b"-5\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_SIZE),
        (b"0x5\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_SIZE),
        (b"\r\n", E.INVALID_CHUNK_SIZE),
        (b"1000000000000000\r\n", E.CHUNK_SIZE_OVERFLOW),
        (b"ffffffffffffffffff1\r\n", E.CHUNK_SIZE_OVERFLOW),
        (b"5;a\x00b\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a\rb\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        # The chunk-ext grammar: a token name, a token or quoted-string value, ';' between.
        (b"5;\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;=b\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a=\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a b\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a=b c\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a=\"x\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5;a,b\r\nhello\r\n0\r\n\r\n", E.INVALID_CHUNK_EXTENSION),
        (b"5\r\nhelloX\r\n0\r\n\r\n", E.MISSING_CHUNK_CRLF),
        (b"5\r\nhello\rX0\r\n\r\n", E.MISSING_CHUNK_CRLF),
        (b"5\r\nhello\n0\r\n\r\n", E.MISSING_CHUNK_CRLF),
        (b"5\nhello\r\n0\r\n\r\n", E.BARE_LF),
        (b"0\r\nX: a\x00\r\n\r\n", E.invalid_value_byte(0)),
        (b"0\r\nX : a\r\n\r\n", E.WHITESPACE_BEFORE_COLON),
        (b"0\r\n folded\r\n\r\n", E.OBS_FOLD),
        (b"0\r\n\n", E.BARE_LF),
        (b"5;" + b"e" * 5000 + b"\r\n", E.CHUNK_LINE_TOO_LONG),
    ])
    def test_bad_chunks_are_400(self, impl, body, message):
        assert error_of(feed_all_modes(impl, self.chunked(body))) == (400, message)

    def test_chunked_body_limit_is_413(self, impl):
        data = self.chunked(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        assert feed_all_modes(impl, data, max_body_size=11)[1] == ("data", b"hello world")
        assert error_of(feed_all_modes(impl, data, max_body_size=10)) == (413, E.BODY_TOO_LARGE)

    def test_trailers_count_against_the_header_limits(self, impl):
        data = self.chunked(b"0\r\n" + b"".join(b"T%d: v\r\n" % i for i in range(5)) + b"\r\n")
        assert error_of(feed_all_modes(impl, data, max_header_count=4)) == (431, E.TOO_MANY_HEADERS)


class TestAfterError:
    def test_error_is_final_and_events_before_it_are_kept(self, impl):
        parser = impl.HTTPParser()
        events = parser.feed(b"GET /1 HTTP/1.1\r\n" + H + b"\r\nGET /2 HTTP/1.1\r\nBad Header: x\r\n\r\n")
        assert isinstance(events[0], impl.Request) and isinstance(events[1], impl.EndOfMessage)
        assert isinstance(events[2], E.HTTPProtocolError) and len(events) == 3
        assert parser.feed(b"GET / HTTP/1.1\r\n" + H + b"\r\n") == [events[2]]

    def test_bytearray_and_memoryview_input(self, impl):
        parser = impl.HTTPParser()
        data = b"GET / HTTP/1.1\r\n" + H + b"\r\n"
        assert isinstance(parser.feed(bytearray(data))[0], impl.Request)
        assert isinstance(parser.feed(memoryview(data))[0], impl.Request)
