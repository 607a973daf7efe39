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


def encoder_session(module, seed: int) -> list:
    """One encoder through a session of responses, trailers and table size changes: every block, and the
    table after each."""
    rng = random.Random(seed)
    names = [b"x-a", b"content-type", b"server", b"date", b"set-cookie", b"content-length", b"etag", b"x-b"]
    values = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60))) for _ in range(20)]
    encoder = module.Encoder()
    out = []
    for _ in range(400):
        if rng.random() < 0.1:
            encoder.set_max_table_size(rng.choice([0, 50, 200, 1000, 4096, 10000]))
        fields = [(rng.choice(names), rng.choice(values)) for _ in range(rng.randrange(0, 9))]
        if rng.random() < 0.8:
            block = encoder.encode_response(rng.choice([200, 204, 404, 500, 103, 299]), fields)
        else:
            block = encoder.encode(fields)
        out.append((block, list(encoder.entries), encoder.table_size, encoder.inserted))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_encoders_write_the_same_bytes_and_keep_the_same_table(seed):
    assert encoder_session(_hpack, seed) == encoder_session(hpack, seed)
