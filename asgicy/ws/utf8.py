"""An incremental UTF-8 validator as a table-driven DFA, shared by both framers.

RFC 6455 8.1 wants an invalid text message failed as soon as the invalid byte arrives. CPython's
incremental decoder waits on some invalid sequences (a surrogate's first two bytes, ED A0, say), so both
framers use this automaton instead: it rejects at the first byte after which no valid continuation
exists (RFC 3629 section 4). The Cython framer copies ``TABLE`` into a C array at import.
"""

from __future__ import annotations

ACCEPT, REJECT = 0, 1
# States waiting for: one continuation (2); two (3); three (4); after E0: A0-BF (5); after ED: 80-9F (6);
# after F0: 90-BF (7); after F4: 80-8F (8).
STATES = 9


def _build() -> bytes:
    table = bytearray([REJECT]) * (STATES * 256)

    def set_range(state, lo, hi, target):
        for b in range(lo, hi + 1):
            table[state * 256 + b] = target

    set_range(ACCEPT, 0x00, 0x7F, ACCEPT)
    set_range(ACCEPT, 0xC2, 0xDF, 2)
    set_range(ACCEPT, 0xE0, 0xE0, 5)
    set_range(ACCEPT, 0xE1, 0xEC, 3)
    set_range(ACCEPT, 0xED, 0xED, 6)
    set_range(ACCEPT, 0xEE, 0xEF, 3)
    set_range(ACCEPT, 0xF0, 0xF0, 7)
    set_range(ACCEPT, 0xF1, 0xF3, 4)
    set_range(ACCEPT, 0xF4, 0xF4, 8)
    set_range(2, 0x80, 0xBF, ACCEPT)
    set_range(3, 0x80, 0xBF, 2)
    set_range(4, 0x80, 0xBF, 3)
    set_range(5, 0xA0, 0xBF, 2)
    set_range(6, 0x80, 0x9F, 2)
    set_range(7, 0x90, 0xBF, 3)
    set_range(8, 0x80, 0x8F, 3)
    return bytes(table)


TABLE = _build()


def advance(state: int, data) -> int:
    """The state after ``data``; REJECT as soon as a byte makes the text invalid."""
    if state == ACCEPT and data.isascii():
        return ACCEPT
    table = TABLE
    for byte in data:
        state = table[state * 256 + byte]
        if state == REJECT:
            return REJECT
    return state
