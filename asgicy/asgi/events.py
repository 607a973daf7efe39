# cython: language_level=3, annotation_typing=False
"""Validation of the events an application sends, shared by every ASGI cycle.

Each check names the event, the problem and the rule of the spec it enforces (asgiref specs/www.rst,
"HTTP" and "WebSocket"). Unknown extra keys are allowed, as the spec requires.
"""

from __future__ import annotations

import re

from ..http.grammar import TOKEN as _TOKEN
from .errors import ASGIEventError

# What becomes of the trailers http.response.start announced ('trailers': True), as the cycle decides and its
# carrier frames it: SEND_TRAILERS means http.response.trailers ends the response (the last chunk of a
# chunked HTTP/1.1 body, a HEADERS frame ending an HTTP/2 stream).
NO_TRAILERS, SEND_TRAILERS, DROP_TRAILERS = range(3)

WWW = "ASGI HTTP & WebSocket spec"
# Control bytes other than HTAB in a value would let an app split the response (CR LF) or truncate it (NUL).
_FORBIDDEN_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def event_type(message: object) -> str:
    if not isinstance(message, dict):
        raise ASGIEventError(None, f"an event must be a dict, not {type(message).__name__}", "ASGI spec, 'Events'")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ASGIEventError(None, f"the event has no 'type' string (got {kind!r})", "ASGI spec, 'Events'")
    return kind


# Names and values that already passed the checks below: an app sends the same few headers on every
# response, and a set lookup is much cheaper than the two regular expressions. Bounded (cleared when full),
# so an app sending ever-new values cannot grow them.
KNOWN_GOOD_LIMIT = 4096
_good_names: set = set()
_good_values: set = set()


def validate_headers(kind: str, headers: object, key: str = "headers") -> list:
    """Returns the headers as a list of (name, value) bytes pairs, or raises naming the bad one."""
    if headers is None:
        return []
    if type(headers) is list or type(headers) is tuple:
        # The usual case, every pair seen before: no regular expression runs.
        pairs = []
        for item in headers:
            if (type(item) is tuple or type(item) is list) and len(item) == 2:
                name, value = item
                if type(name) is bytes and type(value) is bytes and name in _good_names and value in _good_values:
                    pairs.append(item if type(item) is tuple else (name, value))  # a tuple cannot change
                    continue
            break
        else:
            return pairs
    return _validate_each(kind, headers, key)


def _validate_each(kind: str, headers: object, key: str) -> list:
    if isinstance(headers, (bytes, str, dict)):
        raise ASGIEventError(kind, f"'{key}' must be an iterable of [name, value] pairs, not {type(headers).__name__}",
                             WWW)
    pairs = []
    try:
        iterator = iter(headers)
    except TypeError:
        raise ASGIEventError(kind, f"'{key}' must be an iterable of [name, value] pairs, not "
                             f"{type(headers).__name__}", WWW) from None
    for index, item in enumerate(iterator):
        if isinstance(item, (bytes, str)) or not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ASGIEventError(kind, f"{key}[{index}] is {item!r}, not a [name, value] pair "
                                 "(headers are a list of pairs, not a flat list)", WWW)
        name, value = item
        if type(name) is not bytes or type(value) is not bytes:
            bad = "name" if type(name) is not bytes else "value"
            got = name if bad == "name" else value
            raise ASGIEventError(kind, f"{key}[{index}] {bad} must be bytes, not {type(got).__name__} ({got!r})", WWW)
        if not _TOKEN.match(name):
            raise ASGIEventError(kind, f"{key}[{index}] name {name!r} is not an HTTP token "
                                 "(CR, LF, NUL, spaces and separators would corrupt the response)", "RFC 9110 5.1")
        match = _FORBIDDEN_VALUE_BYTE.search(value)
        if match:
            raise ASGIEventError(kind, f"{key}[{index}] value for {name!r} contains the control byte "
                                 f"0x{match.group()[0]:02x} (response splitting)", "RFC 9110 5.5")
        pairs.append((name, value))
        if len(_good_names) >= KNOWN_GOOD_LIMIT:
            _good_names.clear()
        _good_names.add(name)
        if len(_good_values) >= KNOWN_GOOD_LIMIT:
            _good_values.clear()
        _good_values.add(value)
    return pairs


def validate_bytes(kind: str, message: dict, key: str) -> bytes:
    value = message.get(key, b"")
    if type(value) is not bytes:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise ASGIEventError(kind, f"'{key}' must be bytes, not {type(value).__name__}", WWW)
    return value


def validate_bool(kind: str, message: dict, key: str, default: bool = False) -> bool:
    value = message.get(key, default)
    if type(value) is not bool:
        raise ASGIEventError(kind, f"'{key}' must be a bool, not {type(value).__name__}", WWW)
    return value


def validate_int(kind: str, message: dict, key: str) -> int | None:
    """An optional non-negative int (offsets and counts)."""
    value = message.get(key)
    if value is not None and (type(value) is not int or value < 0):
        raise ASGIEventError(kind, f"'{key}' must be a non-negative int, not {value!r}", WWW)
    return value


def validate_status(kind: str, message: dict) -> int:
    if "status" not in message:
        raise ASGIEventError(kind, "missing required key 'status'", WWW)
    status = message["status"]
    if type(status) is not int:
        raise ASGIEventError(kind, f"'status' must be an int, not {type(status).__name__} ({status!r})", WWW)
    if not 200 <= status <= 599:
        raise ASGIEventError(kind, f"'status' {status} is not a final status code (200-599); informational "
                             "responses are sent by the server or through extensions", "RFC 9110 15")
    return status


def validate_str(kind: str, message: dict, key: str, default: str | None) -> str | None:
    value = message.get(key, default)
    if value is not None and type(value) is not str:
        raise ASGIEventError(kind, f"'{key}' must be a str, not {type(value).__name__}", WWW)
    return value
