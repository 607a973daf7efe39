"""Micro-benchmark of WebSocket frame parsing (client frames, masked) on the same bytes.

    python benchmarks/framer_micro.py [--number N]

asgicy's Cython framer against its pure-Python reference and, when installed, the parsers inside the
websockets library (its sans-I/O ServerProtocol) and wsproto (its FrameProtocol). Each parses a buffer
holding 100 masked binary messages and returns them whole. Prints microseconds per message, best of 5.
"""

from __future__ import annotations

import argparse
import os
import struct
import timeit

from asgicy.ws import _framer, reference

SIZES = {"16 B": 16, "1 KiB": 1024, "64 KiB": 65536}


def client_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x82, 0x80 | n]) if n < 126 else (
        struct.pack("!BBH", 0x82, 0x80 | 126, n) if n < 65536 else struct.pack("!BBQ", 0x82, 0x80 | 127, n))
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
    return head + mask + masked


def asgicy_parse(module):
    def parse(data):
        return module.Framer(max_size=None).feed(data)
    return parse


def websockets_parse():
    from websockets.protocol import State
    from websockets.server import ServerProtocol

    def parse(data):
        proto = ServerProtocol(max_size=None)
        proto.state = State.OPEN  # skip the handshake: parse frames only
        proto.receive_data(data)
        return proto.events_received()
    return parse


def wsproto_parse():
    from wsproto.frame_protocol import FrameProtocol

    def parse(data):
        proto = FrameProtocol(client=False, extensions=[])
        proto.receive_bytes(data)
        return list(proto.received_frames())
    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200)
    number = parser.parse_args().number
    messages = 100
    candidates = {"asgicy (cython)": lambda: asgicy_parse(_framer),
                  "asgicy (reference)": lambda: asgicy_parse(reference),
                  "websockets": websockets_parse, "wsproto": wsproto_parse}
    buffers = {label: b"".join(client_frame(os.urandom(size)) for _ in range(messages))
               for label, size in SIZES.items()}
    print(f"{'parser':<20}" + "".join(f"{label:>12}" for label in SIZES) + "   (us per message)")
    for label, make in candidates.items():
        try:
            parse = make()
            parse(buffers["16 B"])
        except ImportError:
            print(f"{label:<20}   not installed")
            continue
        cells = []
        for data in buffers.values():
            n = max(1, number // (10 if "reference" in label else 1))
            best = min(timeit.repeat(lambda: parse(data), number=n, repeat=5)) / (n * messages)
            cells.append(f"{best * 1e6:>12.2f}")
        print(f"{label:<20}" + "".join(cells))


if __name__ == "__main__":
    main()
