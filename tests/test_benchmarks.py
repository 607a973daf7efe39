"""The benchmark harness is code too: a short run against asgicy and the ceiling must produce real
figures (a broken response or a broken harness shows up as zeros or errors here)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.timeout(300)
def test_harness_smoke_run(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--servers", "asgicy,ceiling", "--rounds", "1",
         "--duration", "1", "--workloads", "plaintext,echo_64k,latency,ws_small,idle_http", "--out", str(out)],
        capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(out.read_text())
    summary = report["summary"]
    assert summary["plaintext"]["median"]["asgicy"] > 1000 and summary["plaintext"]["median"]["ceiling"] > 1000
    assert summary["echo_64k"]["median"]["asgicy"] > 100
    raw_latency = report["raw"]["asgicy"]["latency"][0]
    assert raw_latency["completed"] == raw_latency["sent"] > 0 and 0 < raw_latency["p99_us"]
    assert summary["ws_small"]["median"]["asgicy"] > 1000
    assert 0 < summary["idle_http"]["median"]["asgicy"] < 64
    assert report["machine"]["cores"] and report["commit"] and report["versions"]["asgicy"]
    assert report["summary"]["plaintext"]["ratio_to_asgicy"]["asgicy"] == 1.0


def test_loadgen_and_scripts_are_in_the_repo():
    for name in ("loadgen.c", "pipeline.lua", "post64k.lua", "apps.py", "ceiling.py", "plot.py"):
        assert (ROOT / "benchmarks" / name).is_file()
