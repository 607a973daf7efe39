"""Coverage-guided fuzzing (atheris, on libFuzzer) of the HTTP parser, the WebSocket framer, HPACK and the
HTTP/2 core.

    python tests/hardening/fuzz_targets.py http|ws|hpack|h2 [libFuzzer options] [corpus directories]

Coverage is measured on the pure-Python reference implementations (atheris instruments Python bytecode);
every input is also fed to the Cython implementation, split at a point the fuzzer chooses, and the two
must agree event for event. An input fails the run when either implementation raises anything (their
only documented way to refuse input is a HTTPProtocolError / WebSocketProtocolError *event*), when they
disagree, or when one takes longer than libFuzzer's -timeout (a hang). HPACK is fuzzed the same way (the
Cython codec against the reference: same fields, same table, same error), and so is the HTTP/2 core: every
input goes after the preface to the reference whole and to the Cython core split at a chosen point, and the
two must give the same events and the same bytes out, with nothing raised. tests/hardening/test_fuzz.py runs
every target for a bounded time in CI; docs/security.md records a longer run.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import atheris  # noqa: E402

# Only asgicy is instrumented for coverage (instrumenting everything loaded takes half a minute).
with atheris.instrument_imports(include=["asgicy"]):
    from asgicy.http import _parser
    from asgicy.http import reference as http_reference
    from asgicy.http.errors import HTTPProtocolError
    from asgicy.ws import _framer
    from asgicy.ws import reference as ws_reference
    from asgicy.ws.deflate import Deflate
    from asgicy.h2 import _core, _hpack, hpack
    from asgicy.h2 import reference as h2_reference
    from asgicy.h2.errors import H2ProtocolError, HeaderListTooLarge, HPACKError
    from asgicy.h2.grammar import PREFACE
from tests.sansio.helpers import normalize  # noqa: E402
from tests.sansio.test_framer import norm  # noqa: E402

HTTP_LIMITS = [{}, {"max_body_size": 10}, {"max_request_line_size": 64, "max_header_size": 256, "max_header_count": 4}]
WS_MAX_SIZE = [None, 0, 5, 1000]


def _feed_http(impl, data: bytes, cut: int, limits: dict) -> list:
    parser = impl.HTTPParser(**limits)
    events = parser.feed(data[:cut])
    if not (events and isinstance(events[-1], HTTPProtocolError)):  # after an error, feeding repeats it
        events += parser.feed(data[cut:])
    return normalize(impl, events)


def http_target(raw: bytes) -> None:
    provider = atheris.FuzzedDataProvider(raw)
    limits = HTTP_LIMITS[provider.ConsumeIntInRange(0, len(HTTP_LIMITS) - 1)]
    cut = provider.ConsumeIntInRange(0, 4096)
    data = provider.ConsumeBytes(provider.remaining_bytes())
    cut = min(cut, len(data))
    expected = _feed_http(http_reference, data, len(data), limits)
    got = _feed_http(_parser, data, cut, limits)
    if got != expected:
        raise AssertionError(f"parsers disagree on {data!r} cut at {cut}:\nreference {expected}\ncython    {got}")


def _feed_ws(impl, data: bytes, cut: int, max_size, compress: bool) -> list:
    framer = impl.Framer(max_size=max_size, deflate=Deflate() if compress else None)
    events = framer.feed(data[:cut])
    if not (events and type(events[-1]).__name__ == "WebSocketProtocolError"):
        events += framer.feed(data[cut:])
    return norm(events)


def ws_target(raw: bytes) -> None:
    provider = atheris.FuzzedDataProvider(raw)
    max_size = WS_MAX_SIZE[provider.ConsumeIntInRange(0, len(WS_MAX_SIZE) - 1)]
    compress = provider.ConsumeBool()
    cut = provider.ConsumeIntInRange(0, 4096)
    data = provider.ConsumeBytes(provider.remaining_bytes())
    cut = min(cut, len(data))
    expected = _feed_ws(ws_reference, data, len(data), max_size, compress)
    got = _feed_ws(_framer, data, cut, max_size, compress)
    if got != expected:
        raise AssertionError(f"framers disagree on {data!r} cut at {cut}:\nreference {expected}\ncython    {got}")


def _decode(impl, blocks: list, table_size: int, list_size: int) -> list:
    decoder = impl.Decoder(table_size, list_size)
    results = []
    for block in blocks:
        try:
            results.append(("fields", decoder.decode(block)))
        except HPACKError as exc:
            results.append(("error", exc.message))
        except HeaderListTooLarge:
            results.append(("too large",))
        results.append((list(decoder.table), decoder.table_size))
    return results


def hpack_target(raw: bytes) -> None:
    provider = atheris.FuzzedDataProvider(raw)
    table_size = provider.PickValueInList([0, 64, 256, 4096])
    list_size = provider.PickValueInList([100, 65536])
    cut = provider.ConsumeIntInRange(0, 256)
    data = provider.ConsumeBytes(provider.remaining_bytes())
    blocks = [data[:cut], data[cut:]]  # two blocks: the first one's table is the second one's
    expected = _decode(hpack, blocks, table_size, list_size)
    got = _decode(_hpack, blocks, table_size, list_size)
    if got != expected:
        raise AssertionError(f"HPACK codecs disagree on {blocks!r}:\nreference {expected}\ncython    {got}")


def _feed_h2(impl, data: bytes, cut: int) -> tuple:
    conn = impl.H2Connection(max_concurrent_streams=4, initial_window_size=100, max_header_list_size=500)
    conn.initiate()
    events = conn.feed(PREFACE + data[:cut])
    if not (events and isinstance(events[-1], H2ProtocolError)):  # after an error, feeding repeats it
        events += conn.feed(data[cut:])
    return events, conn.data_to_send()


def h2_target(raw: bytes) -> None:
    provider = atheris.FuzzedDataProvider(raw)
    cut = provider.ConsumeIntInRange(0, 4096)
    data = provider.ConsumeBytes(provider.remaining_bytes())
    cut = min(cut, len(data))
    expected = _feed_h2(h2_reference, data, len(data))
    got = _feed_h2(_core, data, cut)
    if got != expected:
        raise AssertionError(f"the HTTP/2 cores disagree on {data!r} cut at {cut}:\nreference {expected}\n"
                             f"cython    {got}")


def main() -> None:
    target = {"http": http_target, "ws": ws_target, "hpack": hpack_target, "h2": h2_target}[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
