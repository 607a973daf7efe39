"""The benchmark harness is code too: a short run against asgicy and the ceiling must produce real
figures (a broken response or a broken harness shows up as zeros or errors here)."""

import json
import os
import subprocess
import sys
import time
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


@pytest.mark.parametrize("protocol", ["asgicy", "ceiling"])
def test_in_process_harness_answers_every_request(protocol):
    # inprocess.py checks that every read was answered with one write, and exits non-zero otherwise.
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "inprocess.py"), "--batches", "1,16",
                             "--requests", "3200", "--protocol", protocol], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["batch   1", "batch  16"]
    assert all(0 < float(line.split()[2]) < 1000 for line in lines)


@pytest.mark.parametrize("path", ["/ws", "/ws-awaiting"])
def test_in_process_harness_echoes_websocket_messages(path):
    # After the upgrade every read is one masked text frame (16 per read at batch 16), answered by as many
    # echoed text frames before the next read is sent: a message not echoed leaves the run hanging.
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "inprocess.py"), "--batches", "1,16",
                             "--requests", "3200", "--path", path, "--message-size", "200"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["batch   1", "batch  16"]
    assert all(line.endswith("us per message") and 0 < float(line.split()[2]) < 1000 for line in lines)


def test_paced_workloads_keep_the_server_core_awake_with_the_lowest_class():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run
    finally:
        sys.path.pop(0)
    with run.core_kept_awake("0") as spinner:
        # chrt, then taskset, exec the next program: wait for the busy loop itself to be running.
        cmdline = Path(f"/proc/{spinner.pid}/cmdline")
        deadline = time.monotonic() + 5
        while cmdline.read_bytes() != b"sh\0-c\0while :; do :; done\0" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert cmdline.read_bytes() == b"sh\0-c\0while :; do :; done\0"
        assert os.sched_getscheduler(spinner.pid) == os.SCHED_IDLE and os.sched_getaffinity(spinner.pid) == {0}
        assert spinner.poll() is None
    assert spinner.returncode is not None  # stopped and reaped


@pytest.mark.parametrize("parser", ["cython", "reference"])
def test_instruction_counter_runs_its_parser_loop(parser):
    # What instructions.py runs under valgrind (valgrind itself is not needed for this part).
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "instructions.py"), "--parser", parser,
                             "--request", "post", "--feed-times", "50"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_parser_micro_benchmark_reports_every_parser_and_its_ratio():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "parser_micro.py"), "--number", "200"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    timings, ratios = result.stdout.split("time / cython", 1)

    def rows(section):
        return {line[:20].strip(): line[20:].split() for line in section.splitlines() if line[:20].strip()}
    times = rows(timings)
    assert len(times["asgicy (cython)"]) == len(times["asgicy (reference)"]) == 3
    assert all(float(cell) > 0 for cell in times["asgicy (cython)"] + times["asgicy (reference)"])
    # Each ratio is the reference's time over the Cython parser's (from the unrounded times, so compare
    # with what the printed, rounded times give within a few percent).
    printed = [float(cell.removesuffix("x")) for cell in rows(ratios)["asgicy (reference)"]]
    expected = [float(theirs) / float(ours)
                for theirs, ours in zip(times["asgicy (reference)"], times["asgicy (cython)"])]
    assert len(printed) == 3, printed
    assert all(abs(p - e) <= 0.05 * e + 0.1 for p, e in zip(printed, expected)), (printed, expected)


@pytest.mark.timeout(300)
def test_harness_runs_the_http2_workloads(tmp_path):
    """h2load over h2c and over TLS (a server started per mode), the 64 KiB echo through both windows, and
    the idle HTTP/2 connection's memory: real figures, no failed request."""
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--servers", "asgicy", "--rounds", "1",
         "--duration", "1", "--workloads", "h2_plaintext,h2_one_connection,h2_echo_64k,h2_tls_plaintext,idle_h2",
         "--out", str(out)], capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(out.read_text())
    for workload in ("h2_plaintext", "h2_one_connection", "h2_echo_64k", "h2_tls_plaintext"):
        run = report["raw"]["asgicy"][workload][0]
        assert run["requests_per_second"] > 100 and "failed" not in run and "error" not in run, (workload, run)
    assert 0 < report["summary"]["idle_h2"]["median"]["asgicy"] < 64
