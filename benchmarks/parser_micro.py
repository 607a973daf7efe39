"""Micro-benchmark of the HTTP/1.1 request parsers on the same requests.

    python benchmarks/parser_micro.py [--number N]

Compares asgicy's Cython parser with its pure-Python reference and, when they are installed, httptools
(llhttp, what uvicorn uses) and h11. Each parser parses the same request from bytes to a complete
request object with its headers, fresh parser state per request for h11 and a kept-alive parser for the
others (as a server uses them). Prints microseconds per request, the best of 5 rounds (each round times
every parser), and how many times the Cython parser's time each other parser takes.
"""

from __future__ import annotations

import argparse
import timeit

from asgicy.http import _parser, reference

REQUESTS = {
    "small": b"GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
    "browser": (b"GET /index.html?q=1 HTTP/1.1\r\nHost: localhost:8080\r\n"
                b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
                b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
                b"Connection: keep-alive\r\nCookie: session=abcdef0123456789; theme=dark\r\n"
                b"Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n\r\n"),
    "post": (b"POST /api HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             b"Content-Length: 27\r\n\r\n{\"hello\": \"world\", \"n\": 1}\n"),
}


def asgicy_parser(module):
    parser = module.HTTPParser()
    return parser.feed


def httptools_parser():
    import httptools

    class Proto:
        __slots__ = ("headers", "url", "body", "done")

        def on_url(self, url):
            self.url = url

        def on_header(self, name, value):
            self.headers.append((name.lower(), value))

        def on_headers_complete(self):
            pass

        def on_body(self, body):
            self.body = body

        def on_message_complete(self):
            self.done = True

    proto = Proto()
    proto.headers = []
    parser = httptools.HttpRequestParser(proto)

    def feed(data):
        proto.headers = []
        parser.feed_data(data)
        return proto
    return feed


def h11_parser():
    import h11

    def feed(data):
        conn = h11.Connection(h11.SERVER)
        conn.receive_data(data)
        events = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or isinstance(event, h11.EndOfMessage):
                break
            events.append(event)
        return events
    return feed


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--number", type=int, default=20000)
    number = args.parse_args().number
    candidates = {"asgicy (cython)": lambda: asgicy_parser(_parser),
                  "asgicy (reference)": lambda: asgicy_parser(reference),
                  "httptools": httptools_parser, "h11": h11_parser}
    feeds = {}
    for label, make in candidates.items():
        try:
            feeds[label] = make()
        except ImportError:
            print(f"{label:<20}   not installed")
    # Round by round, every parser on every request in each round, so a machine that slows down for a
    # while slows them all; each keeps its best round.
    timings = {label: [float("inf")] * len(REQUESTS) for label in feeds}
    for _ in range(5):
        for label, feed in feeds.items():
            n = number // 20 if "reference" in label or label == "h11" else number
            for index, data in enumerate(REQUESTS.values()):
                # The statement calls the parser directly (no lambda between): what is timed is the parser
                # and timeit's loop, the same loop for every parser.
                took = timeit.timeit("feed(data)", globals={"feed": feed, "data": data}, number=n) / n
                timings[label][index] = min(timings[label][index], took)
    print(f"{'parser':<20}" + "".join(f"{name:>12}" for name in REQUESTS) + "   (us per request)")
    for label, cells in timings.items():
        print(f"{label:<20}" + "".join(f"{best * 1e6:>12.3f}" for best in cells))
    ours = timings["asgicy (cython)"]
    print(f"\n{'time / cython':<20}" + "".join(f"{name:>12}" for name in REQUESTS))
    for label, cells in timings.items():
        if label != "asgicy (cython)":
            print(f"{label:<20}" + "".join(f"{theirs / mine:>11.1f}x" for theirs, mine in zip(cells, ours)))


if __name__ == "__main__":
    main()
