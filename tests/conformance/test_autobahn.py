"""The Autobahn TestSuite, run by kosoku against a real asgicy process: no case may FAIL.

The whole case set (517 cases, the 12.x and 13.x compression groups included) runs against the Cython
framer; groups 1-10 also run against the pure-Python reference. A summary of each run is written to
``$ASGICY_TEST_AUTOBAHN_REPORT`` (a JSON file) when that is set; the docs' conformance table comes from it.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import kosoku
import pytest

HERE = Path(__file__).parent
FAILED_BEHAVIOURS = {"FAILED", "ERROR", "NO_CLOSE"}
FAILED_CLOSE = {"FAILED", "UNCLEAN"}


def _name(value) -> str:
    return str(value).rsplit(".", 1)[-1].upper().replace("_", "-")


def start_server(env):
    # Pings off: a keepalive ping in the middle of a case makes it fail (see shared/AUTOBAHN.md).
    proc = subprocess.Popen([sys.executable, "-m", "asgicy", "echo_app:app", "--port", "0", "--lifespan", "off",
                             "--ws-ping-interval", "0", "--no-access-log"],
                            cwd=HERE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"running on http://([\d.]+):(\d+)", line)
        if match:
            return proc, int(match.group(2))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("the server did not start")


def run_cases(env, cases):
    proc, port = start_server(env)
    # Warnings go to stderr; drain it so the server never blocks on a full pipe.
    import threading
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    started = time.monotonic()
    try:
        async def go():
            try:
                return await kosoku.run_fuzzingclient(f"ws://127.0.0.1:{port}", cases, None, concurrency=4)
            except kosoku.FailureError as exc:
                return exc.results
        results = asyncio.run(go())
    finally:
        proc.kill()
        proc.wait(10)
    return results, time.monotonic() - started


def summarize(results, seconds, label):
    counts = collections.Counter()
    failed = []
    for r in results:
        behavior, close = _name(r.behavior), _name(r.behavior_close)
        if behavior in FAILED_BEHAVIOURS or close in FAILED_CLOSE:
            counts["FAILED"] += 1
            failed.append((r.case_id, behavior, close, r.remote_close_code))
        else:
            counts[behavior] += 1
    summary = {"label": label, "cases": len(results), "seconds": round(seconds, 1), **counts,
               "non_strict_cases": [r.case_id for r in results if _name(r.behavior) == "NON-STRICT"]}
    report = os.environ.get("ASGICY_TEST_AUTOBAHN_REPORT")
    if report:
        existing = json.loads(Path(report).read_text()) if Path(report).exists() else []
        Path(report).write_text(json.dumps([*existing, summary], indent=2))
    print(json.dumps(summary))
    return failed


@pytest.mark.timeout(1200)
def test_whole_suite_cython():
    results, seconds = run_cases({}, None)
    assert len(results) == 517
    assert summarize(results, seconds, "cython framer, all cases") == []


@pytest.mark.timeout(300)
def test_reference_framer_groups_1_to_10():
    results, seconds = run_cases({"ASGICY_PURE_PYTHON": "1"},
                                 ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"])
    assert len(results) == 301
    assert summarize(results, seconds, "pure-Python reference framer, groups 1-10") == []
