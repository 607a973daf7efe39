"""The real-app workloads of the benchmarks (issue: speed where real apps live) work, on every CI run: a
PostgreSQL started for the test (benchmarks/postgres.py, as run.py starts it), TechEmpower's database
tests answered correctly through asgicy, and a short run.py of every new workload with real figures.

Needs PostgreSQL's binaries (Debian's ``postgresql``: .ci/run installs it, postgres.py installs it if it
is missing and it may) and the apps' packages, which run.py installs into benchmarks/.build/apps-site.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parent.parent
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import postgres  # noqa: E402  (benchmarks/postgres.py)
import techempower  # noqa: E402


@pytest.fixture(scope="module")
def database():
    with postgres.Postgres() as pg:
        yield pg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(database):
    """asgicy serving benchmarks/apps.py (the app every server runs) with the database's address."""
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": database.dsn}
    proc = subprocess.Popen([sys.executable, "-m", "asgicy", "apps:app", "--port", str(port), "--lifespan", "off",
                             "--no-access-log"], cwd=BENCHMARKS, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            yield client
    finally:
        proc.terminate()
        proc.wait(20)


class FortuneTable(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list = []
        self.cell: list | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td":
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def test_the_database_holds_techempowers_tables(database):
    import asyncio

    import asyncpg

    async def read():
        connection = await asyncpg.connect(database.dsn)
        try:
            return (await connection.fetchval("SELECT count(*) FROM world"),
                    await connection.fetch("SELECT id, message FROM fortune ORDER BY id"))
        finally:
            await connection.close()

    count, fortunes = asyncio.run(read())
    assert count == postgres.WORLD_ROWS
    assert [(row["id"], row["message"]) for row in fortunes] == postgres.FORTUNES


def test_single_query_answers_one_world_row(served, database):
    for _ in range(20):
        response = served.get("/db")
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        row = response.json()
        assert set(row) == {"id", "randomNumber"} and 1 <= row["id"] <= postgres.WORLD_ROWS
        assert 1 <= row["randomNumber"] <= 10_000


@pytest.mark.parametrize(("query", "count"), [("?queries=20", 20), ("?queries=1", 1), ("?queries=0", 1),
                                              ("?queries=foo", 1), ("", 1), ("?queries=501", 500)])
def test_queries_answers_the_asked_number_of_distinct_rows(served, query, count):
    rows = served.get("/queries" + query).json()
    assert len(rows) == count and len({row["id"] for row in rows}) == count
    assert all(1 <= row["id"] <= postgres.WORLD_ROWS for row in rows)


def test_fortunes_are_sorted_escaped_and_include_the_one_added_at_request_time(served):
    response = served.get("/fortunes")
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<script>" not in response.text and "&lt;script&gt;" in response.text
    table = FortuneTable()
    table.feed(response.text)
    rows = [(int(cells[0]), cells[1]) for cells in table.rows if cells]
    expected = sorted(postgres.FORTUNES + [(0, techempower.ADDED_FORTUNE)], key=lambda row: row[1])
    assert rows == expected


def test_the_framework_apps_answer(served):
    assert served.get("/starlette/plaintext").text == "Hello, world!"
    assert served.get("/starlette/json").json() == {"message": "Hello, world!"}
    assert served.get("/fastapi/json").json() == {"message": "Hello, world!", "count": 1}
    assert served.get("/fastapi/plaintext").text == "Hello, world!"
    assert served.get("/awaiting").text == "Hello, world!"


@pytest.mark.timeout(600)
def test_harness_runs_every_real_app_workload(tmp_path):
    """run.py with its own PostgreSQL: the framework and database workloads, latency at a rate derived from
    the throughput rounds, and the WebSocket workloads (the ceiling's WebSocket echo too): real figures."""
    out = tmp_path / "bench.json"
    workloads = "plaintext,awaiting,starlette,fastapi,db,queries,fortunes,latency_plaintext,latency_db," \
                "ws_small,ws_awaiting,ws_broadcast"
    result = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--servers", "asgicy,ceiling", "--rounds",
                             "1", "--duration", "1", "--workloads", workloads, "--out", str(out)],
                            capture_output=True, text=True, timeout=580)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    raw = report["raw"]["asgicy"]
    for workload in ("plaintext", "awaiting", "starlette", "fastapi", "db", "queries", "fortunes"):
        run = raw[workload][0]
        assert run["requests_per_second"] > 50 and "non_2xx" not in run and "socket_errors" not in run, (workload, run)
        assert 0 < run["system_us_per_request"] < run["cpu_us_per_request"], (workload, run)
    for workload in ("latency_plaintext", "latency_db"):
        run = raw[workload][0]
        # uvicorn was not measured: the workload's own rate, every request answered.
        assert run["completed"] == run["sent"] > 0 and 0 < run["p50_us"] <= run["p99_us"] <= run["p999_us"], run
    assert report["method"]["server_core_kept_awake_when_paced"] is True
    for workload in ("ws_small", "ws_awaiting"):
        run = raw[workload][0]
        assert run["messages_per_second"] > 1000 and 0 < run["system_us_per_message"] < run["cpu_us_per_message"]
    broadcast = raw["ws_broadcast"][0]
    assert broadcast["deliveries"] >= 100 * (broadcast["messages"] - 1) > 0  # each message reached all 100
    assert 0 < broadcast["system_us_per_delivery"] < broadcast["cpu_us_per_delivery"]
    assert report["raw"]["ceiling"]["ws_small"][0]["messages_per_second"] > 1000
