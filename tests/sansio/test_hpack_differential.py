"""The Cython HPACK codec against the pure-Python reference: for the same blocks, valid or broken, both give
the same fields, leave the same dynamic table, and raise the same error (type and message)."""

from __future__ import annotations

import random

import hpack as hyper_hpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asgicy.h2 import _hpack, hpack
from asgicy.h2.errors import HeaderListTooLarge, HPACKError

from .hpack_vectors import GROUPS


def outcome(decoder, block: bytes):
    try:
        result = ("fields", decoder.decode(block))
    except HPACKError as exc:
        result = ("error", exc.message)
    except HeaderListTooLarge:
        result = ("too large",)
    return result, list(decoder.table), decoder.table_size


def agree(blocks, table_size=4096, list_size=65536):
    ours = _hpack.Decoder(table_size, list_size)
    reference = hpack.Decoder(table_size, list_size)
    for block in blocks:
        assert outcome(ours, block) == outcome(reference, block), block.hex()


def valid_blocks(rng, count):
    """Blocks from the python-hyper encoder (which indexes), so the dynamic table is exercised."""
    encoder = hyper_hpack.Encoder()
    names = [b"x-a", b"x-b", b"content-type", b"cookie", b"user-agent", b"accept"]
    blocks = []
    for _ in range(count):
        fields = [(rng.choice(names), bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30))))
                  for _ in range(rng.randrange(0, 8))]
        blocks.append(encoder.encode(fields, huffman=rng.random() < 0.5))
    return blocks


def test_the_appendix_c_groups_agree():
    for _, table_size, group in GROUPS:
        agree([bytes.fromhex(hex_block.replace(" ", "")) for hex_block, _, _ in group], table_size)


def test_encoded_blocks_agree():
    agree(valid_blocks(random.Random(1), 400))


def test_mutated_blocks_agree():
    rng = random.Random(2)
    blocks = valid_blocks(rng, 300)
    for index, block in enumerate(blocks):
        if block:
            mutated = bytearray(block)
            for _ in range(rng.randrange(1, 4)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            blocks[index] = bytes(mutated[:rng.randrange(len(mutated) + 1)])
    # Each block on a fresh pair too: an error in one must not hide a disagreement in the next.
    for block in blocks:
        agree([block])
    agree(blocks, list_size=300)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_agree(block):
    agree([block])
    assert (_hpack.huffman_decode(block) if _safe(block) else None) == (hpack.huffman_decode(block)
                                                                       if _safe(block) else None)


def _safe(data: bytes) -> bool:
    try:
        hpack.huffman_decode(data)
        return True
    except HPACKError:
        with pytest.raises(HPACKError):
            _hpack.huffman_decode(data)
        return False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_huffman_agrees(data):
    assert _hpack.huffman_encode(data) == hpack.huffman_encode(data)
    assert _hpack.huffman_length(data) == hpack.huffman_length(data)
    assert _hpack.huffman_decode(_hpack.huffman_encode(data)) == data
