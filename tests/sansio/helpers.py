"""Feeding helpers shared by the core tests: every input is fed whole, one byte at a time, and followed
by the start of another request, and the events must be the same each way (the h11 discipline)."""

from __future__ import annotations

from asgicy.http.errors import HTTPProtocolError

MODES = ("whole", "bytewise", "trailing")
# The beginning of another request: never completes, so it adds no events and takes no error.
TRAILING = b"GET /next HTTP/1.1\r\nHost: a"


def normalize(impl, events):
    """Events as plain tuples, with adjacent body pieces joined (their boundaries depend on the split)."""
    out = []
    for ev in events:
        if isinstance(ev, bytes):
            assert ev, "the parser must never emit an empty body piece"
            if out and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + ev)
            else:
                out.append(("data", ev))
        elif isinstance(ev, impl.Request):
            out.append(("request", ev.method, ev.target, ev.path, ev.query, ev.http_version,
                        list(ev.headers), ev.keep_alive, ev.expect_continue, ev.upgrade, ev.content_length))
        elif isinstance(ev, impl.EndOfMessage):
            out.append(("end", list(ev.trailers)))
        elif isinstance(ev, HTTPProtocolError):
            out.append(("error", ev.status_hint, ev.message))
        else:  # pragma: no cover - a failure message
            raise AssertionError(f"unexpected event {ev!r}")
    return out


def feed(impl, data: bytes, mode: str = "whole", **limits):
    parser = impl.HTTPParser(**limits)
    events = []
    if mode == "whole":
        events += parser.feed(data)
    elif mode == "bytewise":
        for i in range(len(data)):
            events += parser.feed(data[i:i + 1])
            if events and isinstance(events[-1], HTTPProtocolError):
                break  # every later feed would repeat the same error
    elif mode == "trailing":
        events += parser.feed(data + TRAILING)
    else:
        raise ValueError(mode)
    return normalize(impl, events)


def feed_all_modes(impl, data: bytes, **limits):
    """Feeds ``data`` every way, checks that the ways agree, returns the events."""
    whole = feed(impl, data, "whole", **limits)
    assert feed(impl, data, "bytewise", **limits) == whole
    trailing = feed(impl, data, "trailing", **limits)
    assert trailing == whole, (trailing, whole)
    return whole


def error_of(events):
    assert events and events[-1][0] == "error", f"expected an error, got {events!r}"
    return events[-1][1], events[-1][2]
