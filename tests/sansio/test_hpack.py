"""HPACK (RFC 7541): the worked examples of appendix C, the Huffman code, the decoder's errors and limits.

Each test runs against every implementation of the codec (the ``hpack_impl`` fixture)."""

from __future__ import annotations

import os
import random

import pytest

from asgicy.h2 import errors as E
from asgicy.h2.errors import HeaderListTooLarge, HPACKError
from asgicy.h2.grammar import HUFFMAN_CODE_LENGTHS, STATIC_TABLE

from .hpack_vectors import GROUPS, HUFFMAN_STRINGS


def _bytes(fields):
    return [(name.encode(), value.encode()) for name, value in fields]


@pytest.mark.parametrize("section, table_size, blocks", GROUPS, ids=[group[0] for group in GROUPS])
def test_appendix_c_examples_decode(hpack_impl, section, table_size, blocks):
    decoder = hpack_impl.Decoder(max_table_size=table_size)
    for hex_block, fields, table in blocks:
        assert decoder.decode(bytes.fromhex(hex_block.replace(" ", ""))) == _bytes(fields)
        assert [(n, v, len(n) + len(v) + 32) for n, v in decoder.table] == [
            (n.encode(), v.encode(), size) for n, v, size in table]
        assert decoder.table_size == sum(size for _, _, size in table)


@pytest.mark.parametrize("text, coded", HUFFMAN_STRINGS)
def test_huffman_matches_the_appendix_c_strings(hpack_impl, text, coded):
    assert hpack_impl.huffman_encode(text.encode()).hex() == coded.replace(" ", "")
    assert hpack_impl.huffman_decode(bytes.fromhex(coded.replace(" ", ""))) == text.encode()
    assert hpack_impl.huffman_length(text.encode()) == len(coded.replace(" ", "")) // 2


def test_huffman_codes_are_the_rfc_table_as_the_hpack_library_has_it(hpack_impl):
    # An independent transcription of appendix B (python-hyper's), every symbol including EOS.
    from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
    assert list(REQUEST_CODES_LENGTH) == list(HUFFMAN_CODE_LENGTHS)
    assert list(REQUEST_CODES) == list(hpack_impl.HUFFMAN_CODES)


def test_huffman_round_trips_every_byte_and_random_strings(hpack_impl):
    rng = random.Random(7541)
    samples = [bytes(range(256)), b""] + [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
                                          for _ in range(300)]
    from hpack.huffman import HuffmanEncoder
    from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
    theirs = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)
    for data in samples:
        coded = hpack_impl.huffman_encode(data)
        assert coded == theirs.encode(data)
        assert hpack_impl.huffman_decode(coded) == data


@pytest.mark.parametrize("coded, message", [
    (bytes.fromhex("ffffffff"), E.EOS_IN_STRING),  # 30 ones: EOS itself
    (bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff") + b"\xff", E.BAD_PADDING),  # 8 bits of padding
    (bytes((0b00000110,)), E.BAD_PADDING),  # '0' (00000), then padding 110: not all ones
])
def test_huffman_refuses_eos_and_bad_padding(hpack_impl, coded, message):
    with pytest.raises(HPACKError) as info:
        hpack_impl.huffman_decode(coded)
    assert info.value.message == message


@pytest.mark.parametrize("block, message", [
    (b"\x80", E.INDEX_ZERO),
    (b"\xbe", E.INDEX_OUT_OF_RANGE),  # 62: past the static table, and the dynamic table is empty
    (b"\xff\x80\x80\x80\x80\x80\x80\x80\x80\x01", E.INTEGER_OVERFLOW),
    # Overlong: zero continuation bytes, then a small one past 64 bits of shift (found by the fuzzer: the
    # Cython codec's C shift wrapped around to a small index).
    (b"\x81\xff" + b"\x80" * 10 + b"\x01", E.INTEGER_OVERFLOW),
    (b"\xff\x80", E.TRUNCATED_BLOCK),
    (b"\x40\x05ab", E.TRUNCATED_BLOCK),  # a name announced as 5 bytes, 2 there
    (b"\x3f\xe2\x1f", E.TABLE_SIZE_TOO_LARGE),  # 4096 + 1
    (b"\x82\x20", E.TABLE_SIZE_NOT_FIRST),
    (b"\x00", E.TRUNCATED_BLOCK),  # a literal with a new name, and no name (found by the differential test)
    (b"\x40\x01a", E.TRUNCATED_BLOCK),  # a name, and no value
])
def test_decoder_refuses_broken_blocks(hpack_impl, block, message):
    with pytest.raises(HPACKError) as info:
        hpack_impl.Decoder().decode(block)
    assert info.value.message == message
    assert info.value.error_code == 9  # COMPRESSION_ERROR


def test_table_size_update_evicts_and_bounds_later_inserts(hpack_impl):
    decoder = hpack_impl.Decoder()
    decoder.decode(bytes.fromhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"))  # C.2.1
    assert decoder.table_size == 55
    decoder.decode(b"\x20")  # size update to 0: everything is evicted
    assert decoder.table == [] and decoder.table_size == 0
    decoder.decode(b"\x3f\x11" + bytes.fromhex("400a637573746f6d2d6b65790d637573746f6d2d686561646572"))  # 48
    assert decoder.table == []  # a 55-byte entry does not fit a 48-byte table (RFC 7541 4.4)
    with pytest.raises(HPACKError):
        decoder.decode(b"\xbe")


def test_header_list_limit_counts_decoded_size_and_keeps_the_table_in_step(hpack_impl):
    # An HPACK bomb: one 4 KB-ish entry inserted, then referenced by index again and again (1 byte each).
    decoder = hpack_impl.Decoder(max_header_list_size=16384)
    big = b"x" * 4000
    block = b"\x40\x01a" + hpack_impl.encode_integer(len(big), 7, 0) + big + b"\xbe" * 1000
    with pytest.raises(HeaderListTooLarge):
        decoder.decode(block)
    # The block was processed to its end: the entry is in the table, and the next block can use it.
    assert decoder.decode(b"\xbe") == [(b"a", big)]


@pytest.mark.parametrize("value, prefix", [(0, 5), (30, 5), (31, 5), (1337, 5), (2**31 - 1, 7), (127, 7), (128, 7)])
def test_integers_round_trip(hpack_impl, value, prefix):
    encoded = hpack_impl.encode_integer(value, prefix, 0)
    assert hpack_impl.decode_integer(encoded, 0, prefix) == (value, len(encoded))


def test_rfc_integer_examples(hpack_impl):
    # RFC 7541 C.1.1-C.1.3.
    assert hpack_impl.encode_integer(10, 5, 0) == bytes((0b01010,))
    assert hpack_impl.encode_integer(1337, 5, 0) == bytes((0b11111, 0b10011010, 0b00001010))
    assert hpack_impl.encode_integer(42, 8, 0) == bytes((42,))


def random_fields(rng, names, values):
    return [(rng.choice(names), rng.choice(values)) for _ in range(rng.randrange(0, 12))]


def test_encoder_output_decodes_to_the_same_fields(hpack_impl):
    """Blocks of one connection, values that repeat (indexed) and that do not: the python-hyper decoder and
    ours, each keeping its table across the blocks as a peer does, read back what was encoded."""
    import hpack
    rng = random.Random(9113)
    names = [name for name, _ in STATIC_TABLE if not name.startswith(b":")]
    names += [b"x-custom", b"x-" + os.urandom(4).hex().encode()]
    values = [bytes(rng.randrange(0x20, 0x7f) for _ in range(rng.randrange(0, 40))) for _ in range(30)]
    encoder = hpack_impl.Encoder()
    theirs, ours = hpack.Decoder(), hpack_impl.Decoder()
    for _ in range(300):
        fields = random_fields(rng, names, values)
        status = rng.choice([200, 204, 404, 500, 302, 418, 599])
        block = encoder.encode_response(status, fields)
        assert theirs.decode(block, raw=True) == [(b":status", b"%d" % status)] + fields
        assert ours.decode(block) == [(b":status", b"%d" % status)] + fields
    assert encoder.inserted > 100 and encoder.table_size <= 4096  # it indexed, and evicted to stay in 4096


def test_encoder_indexes_what_repeats_and_not_what_differs(hpack_impl):
    encoder = hpack_impl.Encoder()
    fields = [(b"content-type", b"text/plain"), (b"content-length", b"13"),
              (b"date", b"Thu, 03 Dec 2026 02:30:00 GMT"), (b"server", b"asgicy")]
    first = encoder.encode_response(200, fields)
    again = encoder.encode_response(200, fields)
    assert len(first) > 30
    # :status 200 (static 8), content-type (dynamic 64), content-length as a literal without indexing (static
    # name 28, value "13" not Huffman-coded: it is no shorter), date (63), server (62): the newest is 62.
    assert again == bytes([0x88, 0x80 | 64, 0x0F, 28 - 15, 0x02]) + b"13" + bytes([0x80 | 63, 0x80 | 62])
    assert encoder.table_size == sum(len(n) + len(v) + 32 for n, v in fields if n != b"content-length")


def test_encoder_follows_the_peers_table_size(hpack_impl):
    """SETTINGS_HEADER_TABLE_SIZE from the client: the next block opens with the size updates RFC 7541 4.2
    asks for (the smallest, then the final size), and the table never holds more than the peer allows."""
    import hpack
    rng = random.Random(7541)
    names = [b"x-a", b"x-b", b"content-type", b"server", b"x-" + os.urandom(3).hex().encode()]
    values = [os.urandom(rng.randrange(1, 30)).hex().encode() for _ in range(12)]
    encoder = hpack_impl.Encoder()
    theirs = hpack.Decoder()
    for _ in range(200):
        if rng.random() < 0.3:
            sizes = [rng.choice([0, 64, 256, 1000, 4096, 65536]) for _ in range(rng.randrange(1, 3))]
            for size in sizes:
                encoder.set_max_table_size(size)
            theirs.max_allowed_table_size = sizes[-1]
        block = encoder.encode(random_fields(rng, names, values) or [(b"x-a", b"1")])
        theirs.decode(block, raw=True)
        assert theirs.header_table_size == encoder.table_size_limit
        assert encoder.table_size <= min(theirs.max_allowed_table_size, 4096)
    encoder = hpack_impl.Encoder()
    encoder.set_max_table_size(0)
    encoder.set_max_table_size(100)
    block = encoder.encode([(b"x-a", b"1")])
    assert block[:3] == bytes([0x20, 0x3F, 100 - 31])  # size update 0, then 100 (5-bit prefix, RFC 7541 6.3)
    encoder.set_max_table_size(0)
    assert encoder.encode([(b"x-a", b"1")])[:1] == b"\x20" and encoder.table_size == 0


def test_encoder_marks_secrets_never_indexed(hpack_impl):
    block = hpack_impl.Encoder().encode([(b"set-cookie", b"id=1")])
    assert block[0] & 0xF0 == 0x10  # RFC 7541 6.2.3
