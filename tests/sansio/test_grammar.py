"""asgicy.http.grammar is the one place the parser's facts are written; each copy the Cython side must keep
(it cannot read Python at compile time) is checked against it here, and both parsers are checked to
accept exactly its token characters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from asgicy.asgi.errors import ASGIEventError
from asgicy.asgi.events import validate_headers
from asgicy.http import grammar, reference

HTTP = Path(grammar.__file__).resolve().parent


def _block(text: str, opening: str) -> str:
    """The indented lines under ``opening`` (a Cython block)."""
    lines = text[text.index(opening) + len(opening):].splitlines()[1:]
    body = []
    for line in lines:
        if line.strip() and not line.startswith((" ", "\t")):
            break
        body.append(line)
    return "\n".join(body)


def test_the_compiled_parser_state_numbers_are_the_grammars():
    enum = _block((HTTP / "_parser.pxd").read_text(), "cdef enum ParserState:")
    numbers = {name: int(value) for name, value in re.findall(r"^\s+(\w+) = (\d+)", enum, re.M)}
    assert numbers == {name: number for number, name in enumerate(grammar.STATE_NAMES)}


def test_the_compiled_request_declares_the_grammars_fields_in_order():
    declared = _block((HTTP / "_parser.pxd").read_text(), "cdef class Request:")
    assert tuple(re.findall(r"cdef public [\w ]+? (\w+)$", declared, re.M)) == grammar.REQUEST_FIELDS
    stub = _block((HTTP / "_parser.pyi").read_text(), "class Request:")
    assert tuple(re.findall(r"^\s+(\w+):", stub, re.M)) == grammar.REQUEST_FIELDS
    assert reference.Request.__slots__ == grammar.REQUEST_FIELDS


def test_the_compiled_parser_limits_are_the_grammars():
    limits = dict(re.findall(r"^\s+(MAX_\w+) = (\d+)", (HTTP / "_parser.pyx").read_text(), re.M))
    for name in ("MAX_CHUNK_LINE", "MAX_CONTENT_LENGTH_DIGITS", "MAX_CHUNK_SIZE_DIGITS"):
        assert int(limits[name]) == getattr(grammar, name), name


def test_the_token_pattern_and_the_set_agree():
    assert grammar.TCHAR == frozenset(grammar.TOKEN_CHARACTERS) and len(grammar.TCHAR) == 77  # RFC 9110 5.6.2
    for byte in range(256):
        assert bool(grammar.TOKEN.match(bytes([byte]))) == (byte in grammar.TCHAR), byte


@pytest.mark.parametrize("byte", [b for b in range(256) if b != 0x3A])  # (':' ends the name)
def test_both_parsers_take_exactly_the_token_characters_in_a_header_name(impl, byte):
    name = b"x" + bytes([byte])
    events = impl.HTTPParser().feed(b"GET / HTTP/1.1\r\nHost: t\r\n" + name + b": v\r\n\r\n")
    accepted = type(events[0]).__name__ == "Request"
    assert accepted == (byte in grammar.TCHAR), (byte, events)


@pytest.mark.parametrize("byte", [0x20, 0x22, 0x28, 0x2C, 0x2F, 0x3B, 0x40, 0x7B, 0x80])
def test_the_event_validator_refuses_a_header_name_that_is_no_token(byte):
    assert byte not in grammar.TCHAR
    with pytest.raises(ASGIEventError):
        validate_headers("http.response.start", [(b"x" + bytes([byte]), b"v")])
    assert validate_headers("http.response.start", [(b"x-ok", b"v")]) == [(b"x-ok", b"v")]
