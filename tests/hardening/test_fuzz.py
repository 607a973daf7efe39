"""A bounded run of the coverage-guided fuzz targets in tests/hardening/fuzz_targets.py.

Each target runs for ASGICY_TEST_FUZZ_SECONDS (20 by default) in its own process, seeded with the smuggling
corpus and the framer's test frames; any crash, hang or disagreement between the Cython and reference
implementations fails the test and leaves the input in the test's temporary directory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sansio import h2frames
from tests.sansio.hpack_vectors import GROUPS
from tests.sansio.wsframes import deflated, frame

from .smuggling_corpus import REFUSED, UNAMBIGUOUS

pytest.importorskip("atheris")  # a test dependency; this only guards a partial install

SECONDS = int(os.environ.get("ASGICY_TEST_FUZZ_SECONDS", "20"))
TARGETS = Path(__file__).with_name("fuzz_targets.py")


def seeds(target: str) -> list:
    if target == "http":
        return [data for _, data, *_ in REFUSED + UNAMBIGUOUS]
    if target == "hpack":
        return [bytes.fromhex(block.replace(" ", "")) for _, _, group in GROUPS for block, _, _ in group]
    if target == "h2":
        return [h2frames.settings() + h2frames.request(1), h2frames.request(1, end_stream=False)
                + h2frames.frame(h2frames.DATA, h2frames.END_STREAM, 1, b"body"),
                h2frames.frame(h2frames.HEADERS, 0, 1, h2frames.block(*h2frames.GET))
                + h2frames.frame(h2frames.CONTINUATION, h2frames.END_HEADERS, 1, b""),
                h2frames.request(1) + h2frames.rst(1) + h2frames.window_update(0, 1000)
                + h2frames.frame(h2frames.PING, 0, 0, b"12345678")]
    return [frame(1, b"hello"), frame(1, b"h\xc3", fin=False) + frame(0, b"\xa9"), frame(9, b"ping"),
            frame(8, b"\x03\xe8bye"), frame(2, b"x" * 200), frame(1, deflated(b"abc" * 50), rsv=4),
            frame(1, b"", fin=False) + frame(0, b"", fin=False) + frame(0, b"ok")]


@pytest.mark.timeout(SECONDS + 120)
@pytest.mark.parametrize("target", ["http", "ws", "hpack", "h2"])
def test_fuzz_target_finds_nothing(tmp_path, target):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(seeds(target)):
        # The target reads its options (limits, split point) from the first bytes: leave them zero.
        (corpus / f"seed-{i}").write_bytes(b"\x00" * 4 + seed)
    result = subprocess.run(
        [sys.executable, str(TARGETS), target, f"-max_total_time={SECONDS}", "-timeout=10", "-rss_limit_mb=4096",
         f"-artifact_prefix={tmp_path}/", "-print_final_stats=1", str(corpus)],
        capture_output=True, text=True, timeout=SECONDS + 100, cwd=tmp_path)
    found = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    assert result.returncode == 0 and not found, result.stderr[-4000:]
    runs = int(re.search(r"Done (\d+) runs", result.stderr).group(1))
    assert runs > 1000  # it really ran: a broken harness would stop at the first input
    print(f"{target}: {runs} inputs in {SECONDS} s, no failure")
