"""Request smuggling and desync vectors, each with the status asgicy must answer.

Every vector carries a hidden second request, ``GET /smuggled``, placed where one reading of the framing
takes it for the body of the first request and another for a request of its own. A front end (proxy,
load balancer) and asgicy that read it differently is a desync: the hidden request reaches the app
without the front end's checks. asgicy must refuse every ambiguous framing (RFC 9112 6.1, 6.3, 7.1, 11.2)
with the status below and close the connection, so the hidden request is never read.

Sources of the vectors: RFC 9112 section 11.2 (request smuggling), the CL.TE / TE.CL / TE.TE families
described by Watchfire (2005) and PortSwigger (2019), and the parser discrepancies in "HTTP Garden"
(Kallus et al., 2024) and in the h11, llhttp and nginx test suites.
"""

HIDDEN = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def post(*fields: bytes, body: bytes = b"", version: bytes = b"1.1") -> bytes:
    return b"POST / HTTP/" + version + b"\r\nHost: x\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n" + body


CHUNKED_THEN_HIDDEN = b"0\r\n\r\n" + HIDDEN

# (name, bytes, status): every one refused, connection closed, /smuggled never served.
REFUSED = [
    # CL.TE and TE.CL: both framings present (RFC 9112 6.1: "ought to be handled as an error").
    ("cl-te", post(b"Content-Length: 6", b"Transfer-Encoding: chunked", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-cl", post(b"Transfer-Encoding: chunked", b"Content-Length: 4",
                   body=b"5c\r\n" + HIDDEN + b"\r\n0\r\n\r\n"), 400),
    ("cl-te-zero", post(b"Content-Length: 0", b"Transfer-Encoding: chunked", body=CHUNKED_THEN_HIDDEN), 400),
    # TE.TE: Transfer-Encoding obfuscated so that one parser sees chunked and the other does not.
    ("te-space-before-colon", post(b"Transfer-Encoding : chunked", b"Content-Length: 5",
                                   body=CHUNKED_THEN_HIDDEN), 400),
    ("te-xchunked", post(b"Transfer-Encoding: xchunked", body=CHUNKED_THEN_HIDDEN), 501),
    ("te-chunked-x", post(b"Transfer-Encoding: chunked-false", body=CHUNKED_THEN_HIDDEN), 501),
    ("te-two-fields", post(b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity", body=CHUNKED_THEN_HIDDEN),
     400),
    ("te-chunked-twice", post(b"Transfer-Encoding: chunked, chunked", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-chunked-not-last", post(b"Transfer-Encoding: chunked, gzip", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-identity-with-cl", post(b"Transfer-Encoding: identity", b"Content-Length: 5", body=CHUNKED_THEN_HIDDEN),
     400),
    ("te-identity", post(b"Transfer-Encoding: identity", body=CHUNKED_THEN_HIDDEN), 501),
    ("te-vertical-tab", post(b"Transfer-Encoding: chunked\x0b", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-form-feed", post(b"Transfer-Encoding:\x0cchunked", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-nul", post(b"Transfer-Encoding: chun\x00ked", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-quoted", post(b'Transfer-Encoding: "chunked"', body=CHUNKED_THEN_HIDDEN), 400),  # not a token
    ("te-non-ascii", post(b"Transfer-Encoding: chunk\xc3\xabd", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-obs-fold", post(b"Transfer-Encoding:", b" chunked", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-folded-into-other", post(b"X-Pad: a", b" Transfer-Encoding: chunked", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-leading-space-line", post(b" Transfer-Encoding: chunked", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-bare-lf-before", b"POST / HTTP/1.1\r\nHost: x\r\nX: y\nTransfer-Encoding: chunked\r\n\r\n"
     + CHUNKED_THEN_HIDDEN, 400),
    ("te-bare-cr", post(b"X: y\rTransfer-Encoding: chunked", body=CHUNKED_THEN_HIDDEN), 400),
    ("te-in-http-1.0", post(b"Transfer-Encoding: chunked", body=CHUNKED_THEN_HIDDEN, version=b"1.0"), 400),
    # Content-Length that two parsers could read two ways.
    ("cl-duplicate-different", post(b"Content-Length: 5", b"Content-Length: 6", body=b"hello" + HIDDEN), 400),
    ("cl-list-different", post(b"Content-Length: 5, 6", body=b"hello" + HIDDEN), 400),
    ("cl-plus", post(b"Content-Length: +5", body=b"hello" + HIDDEN), 400),
    ("cl-negative", post(b"Content-Length: -1", body=HIDDEN), 400),
    ("cl-hex", post(b"Content-Length: 0x5", body=b"hello" + HIDDEN), 400),
    ("cl-space-inside", post(b"Content-Length: 5 0", body=b"hello" + HIDDEN), 400),
    ("cl-decimal-point", post(b"Content-Length: 5.0", body=b"hello" + HIDDEN), 400),
    ("cl-overflow", post(b"Content-Length: 18446744073709551621", body=b"hello" + HIDDEN), 400),
    ("cl-space-before-colon", post(b"Content-Length : 5", body=b"hello" + HIDDEN), 400),
    ("cl-obs-fold", post(b"Content-Length:", b" 5", body=b"hello" + HIDDEN), 400),
    ("cl-empty", post(b"Content-Length:", body=HIDDEN), 400),
    # Chunk syntax that parsers disagree on.
    ("chunk-size-overflow", post(b"Transfer-Encoding: chunked", body=b"FFFFFFFFFFFFFFFF1\r\nx\r\n0\r\n\r\n" + HIDDEN),
     400),
    ("chunk-size-0x", post(b"Transfer-Encoding: chunked", body=b"0x5\r\nhello\r\n" + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-size-plus", post(b"Transfer-Encoding: chunked", body=b"+5\r\nhello\r\n" + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-size-space", post(b"Transfer-Encoding: chunked", body=b"5 \r\nhello\r\n" + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-size-empty", post(b"Transfer-Encoding: chunked", body=b"\r\nhello\r\n" + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-bare-lf-size", post(b"Transfer-Encoding: chunked", body=b"5\nhello\r\n" + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-bare-lf-data", post(b"Transfer-Encoding: chunked", body=b"5\r\nhello\n" + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-bare-lf-last", post(b"Transfer-Encoding: chunked", body=b"0\n\n" + HIDDEN), 400),
    ("chunk-data-too-long", post(b"Transfer-Encoding: chunked", body=b"3\r\nhello\r\n" + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-ext-bare-cr", post(b"Transfer-Encoding: chunked", body=b"5;a\rb\r\nhello\r\n" + CHUNKED_THEN_HIDDEN),
     400),
    ("chunk-ext-quoted-crlf", post(b"Transfer-Encoding: chunked",
                                   body=b'5;a="\r\n"\r\nhello\r\n' + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-ext-no-name", post(b"Transfer-Encoding: chunked", body=b"5;\r\nhello\r\n" + CHUNKED_THEN_HIDDEN), 400),
    ("chunk-last-ext-lf", post(b"Transfer-Encoding: chunked", body=b"0;x\n\r\n" + HIDDEN), 400),
    ("trailer-obs-fold", post(b"Transfer-Encoding: chunked", body=b"0\r\nX: a\r\n b\r\n\r\n" + HIDDEN), 400),
    ("trailer-bare-lf", post(b"Transfer-Encoding: chunked", body=b"0\r\nX: a\n\r\n" + HIDDEN), 400),
    # The request line and head.
    ("line-bare-lf", b"POST / HTTP/1.1\nHost: x\nContent-Length: 5\n\nhello" + HIDDEN, 400),
    ("line-double-space", b"POST  / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + HIDDEN, 400),
    ("line-trailing-space", b"POST / HTTP/1.1 \r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + HIDDEN, 400),
    ("line-http-0.9", b"GET /\r\n" + HIDDEN, 400),
    ("line-version-2", b"POST / HTTP/2.0\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + HIDDEN, 505),
    ("header-nul-value", post(b"X: a\x00b", b"Content-Length: 5", body=b"hello" + HIDDEN), 400),
    ("header-no-colon", post(b"Content-Length 5", body=b"hello" + HIDDEN), 400),
    ("host-twice", b"POST / HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: 5\r\n\r\nhello" + HIDDEN, 400),
    ("host-missing", b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + HIDDEN, 400),
]

# Framings that look unusual but have one reading under RFC 9112: asgicy takes it, and what follows the
# first request is (correctly) the next request. (name, bytes, body the app must see for the first one).
UNAMBIGUOUS = [
    ("te-uppercase", post(b"Transfer-Encoding: CHUNKED", body=b"5\r\nhello\r\n0\r\n\r\n" + HIDDEN), b"hello"),
    ("te-tab-ows", post(b"Transfer-Encoding:\tchunked\t", body=b"5\r\nhello\r\n0\r\n\r\n" + HIDDEN), b"hello"),
    ("chunk-ext-bws", post(b"Transfer-Encoding: chunked", body=b"5 ; a=\"b c\"\r\nhello\r\n0\r\n\r\n" + HIDDEN),
     b"hello"),
    ("trailer-content-length", post(b"Transfer-Encoding: chunked",
                                    body=b"5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n" + HIDDEN), b"hello"),
    ("cl-same-twice", post(b"Content-Length: 5", b"Content-Length: 5", body=b"hello" + HIDDEN), b"hello"),
    ("cl-leading-zeros", post(b"Content-Length: 005", body=b"hello" + HIDDEN), b"hello"),
    ("cl-body-is-a-request", post(b"Content-Length: %d" % len(HIDDEN), body=HIDDEN), HIDDEN),
]
