"""validate_headers: the known-good cache must never let a bad header through, and stays bounded."""

import pytest

from asgicy.asgi import events
from asgicy.asgi.errors import ASGIEventError
from asgicy.asgi.events import validate_headers


def test_headers_seen_before_are_returned_as_pairs():
    headers = [(b"content-type", b"text/plain"), [b"x-a", b"1"]]
    assert validate_headers("http.response.start", headers) == [(b"content-type", b"text/plain"), (b"x-a", b"1")]
    # The second time every pair is known: the same answer, from the cache.
    assert validate_headers("http.response.start", headers) == [(b"content-type", b"text/plain"), (b"x-a", b"1")]


@pytest.mark.parametrize("bad, message", [
    ((b"x-a", b"1\r\nx-b: 2"), "control byte 0x0d"),
    ((b"x a", b"1"), "is not an HTTP token"),
    (("x-a", b"1"), "name must be bytes"),
    ((b"x-a", "1"), "value must be bytes"),
    (([b"unhashable"], b"1"), "name must be bytes"),
    ((b"x-a", b"1", b"2"), "not a [name, value] pair"),
])
def test_a_bad_header_after_known_good_ones_is_refused(bad, message):
    good = [(b"content-type", b"text/plain"), (b"x-a", b"1")]
    validate_headers("http.response.start", good)
    with pytest.raises(ASGIEventError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_headers("http.response.start", good + [bad])


def test_the_known_good_cache_is_bounded():
    for n in range(events.KNOWN_GOOD_LIMIT + 10):
        validate_headers("http.response.start", [(b"x-%d" % n, b"%d" % n)])
    assert len(events._good_names) <= events.KNOWN_GOOD_LIMIT
    assert len(events._good_values) <= events.KNOWN_GOOD_LIMIT
