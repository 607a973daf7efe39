"""Micro-benchmark of the HTTP/2 cores and HPACK codecs on the same input.

    python benchmarks/h2_micro.py [--number N]

Frame codec: the server side of one connection as h2load drives it (16 streams per read, each a GET in
one HEADERS frame, HPACK-indexed as nghttp2 sends them); each request is answered with a 200, three header
fields and a 13-byte body ending the stream, and the bytes out are taken. Compares asgicy's Cython core, its
pure-Python reference and python-hyper's ``h2`` (what hypercorn uses).

HPACK: a browser's request header block (decoded: the first time, with fresh tables and every field a
Huffman literal; and repeated on one connection, where the fields are indexed) and a response's header
block (encoded, on one connection). Compares asgicy's Cython codec, its reference and ``hpack``.

Prints microseconds per request or per block, the best of 5 rounds, and each one's time over Cython's.
"""

from __future__ import annotations

import argparse
import timeit

import h2.config
import h2.connection
import h2.events
import hpack

from asgicy.h2 import _core, _hpack, hpack as ref_hpack, reference

BATCH = 16
# What h2load sends for each request (nghttp2's order), and a browser's request for the HPACK rows.
H2LOAD_REQUEST = [(b":path", b"/plaintext"), (b":scheme", b"http"), (b":authority", b"127.0.0.1:8000"),
                  (b":method", b"GET"), (b"user-agent", b"h2load nghttp2/1.52.0")]
BROWSER_REQUEST = [
    (b":method", b"GET"), (b":authority", b"localhost:8443"), (b":scheme", b"https"), (b":path", b"/index.html?q=1"),
    (b"sec-ch-ua", b'"Chromium";v="131", "Not_A Brand";v="24"'), (b"sec-ch-ua-mobile", b"?0"),
    (b"sec-ch-ua-platform", b'"Linux"'), (b"upgrade-insecure-requests", b"1"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
                    b"Safari/537.36"),
    (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
    (b"sec-fetch-site", b"none"), (b"sec-fetch-mode", b"navigate"), (b"sec-fetch-user", b"?1"),
    (b"sec-fetch-dest", b"document"), (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"accept-language", b"en-US,en;q=0.9"), (b"cookie", b"session=abcdef0123456789; theme=dark"),
]
RESPONSE = [(b"content-type", b"text/plain"), (b"content-length", b"13"),
            (b"date", b"Thu, 03 Dec 2026 02:30:00 GMT"), (b"server", b"asgicy")]
BODY = b"Hello, world!"


def client_reads(batches: int) -> list:
    """The bytes an h2 client sends: the preface and settings, then ``batches`` reads of BATCH requests."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2**30 - 1})
    client.increment_flow_control_window(2**30)
    reads = [client.data_to_send()]
    stream_id = 1
    for _ in range(batches):
        for _ in range(BATCH):
            client.send_headers(stream_id, H2LOAD_REQUEST, end_stream=True)
            stream_id += 2
        reads.append(client.data_to_send())
    return reads


def asgicy_server(module, reads: list):
    def run():
        core = module.H2Connection()
        core.initiate()
        core.feed(reads[0])
        core.data_to_send()
        for data in reads[1:]:
            for event in core.feed(data):
                stream_id = event.stream_id
                core.send_headers(stream_id, 200, RESPONSE[:2])
                core.send_data(stream_id, BODY, True)
            core.data_to_send()
    return run


def hyper_server(reads: list):
    RequestReceived = h2.events.RequestReceived

    def run():
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, validate_inbound_headers=True))
        conn.initiate_connection()
        conn.receive_data(reads[0])
        conn.data_to_send()
        for data in reads[1:]:
            for event in conn.receive_data(data):
                if type(event) is RequestReceived:
                    conn.send_headers(event.stream_id, [(b":status", b"200")] + RESPONSE[:2])
                    conn.send_data(event.stream_id, BODY, end_stream=True)
            conn.data_to_send()
    return run


def browser_blocks(repeats: int) -> list:
    encoder = hpack.Encoder()
    return [encoder.encode(BROWSER_REQUEST) for _ in range(repeats)]


def codec_runs(repeats: int) -> dict:
    """(first, repeated, encode) closures per codec."""
    blocks = browser_blocks(repeats)
    first = blocks[0]
    runs = {}
    for name, make_decoder, make_encoder, encode in (
            ("asgicy (Cython)", _hpack.Decoder, _hpack.Encoder, None),
            ("asgicy (reference)", ref_hpack.Decoder, ref_hpack.Encoder, None),
            ("hpack (python-hyper)", hpack.Decoder, hpack.Encoder, "hyper")):
        def decode_first(make=make_decoder):
            for _ in range(repeats):
                make().decode(first)

        def decode_repeated(make=make_decoder):
            decoder = make()
            for block in blocks:
                decoder.decode(block)

        if encode == "hyper":
            def encode_response(make=make_encoder):
                encoder = make()
                fields = [(b":status", b"200")] + RESPONSE
                for _ in range(repeats):
                    encoder.encode(fields)
        else:
            def encode_response(make=make_encoder):
                encoder = make()
                for _ in range(repeats):
                    encoder.encode_response(200, RESPONSE)
        runs[name] = (decode_first, decode_repeated, encode_response)
    return runs


def best(function, number: int) -> float:
    return min(timeit.repeat(function, number=1, repeat=5)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="requests (a multiple of 16) or blocks per round")
    args = parser.parse_args()
    batches = max(1, args.number // BATCH)
    reads = client_reads(batches)
    requests = batches * BATCH
    print(f"frame codec: {BATCH} GETs per read answered with 200 + 13 bytes, us per request")
    rows = [("asgicy (Cython)", best(asgicy_server(_core, reads), requests)),
            ("asgicy (reference)", best(asgicy_server(reference, reads), requests)),
            ("h2 (python-hyper)", best(hyper_server(reads), requests))]
    for name, us in rows:
        print(f"  {name:<22} {us:8.2f}   {us / rows[0][1]:6.1f}x")
    print("HPACK, us per block: decode first | decode repeated | encode response")
    runs = codec_runs(args.number)
    base = None
    for name, (first, repeated, encode) in runs.items():
        times = [best(first, args.number), best(repeated, args.number), best(encode, args.number)]
        base = base or times
        cells = "   ".join(f"{t:7.2f} ({t / b:5.1f}x)" for t, b in zip(times, base))
        print(f"  {name:<22} {cells}")


if __name__ == "__main__":
    main()
