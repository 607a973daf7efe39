"""Run the server comparison: asgicy against uvicorn, granian, hypercorn, daphne and a bare ceiling.

    python benchmarks/run.py                       # everything, 3 alternating rounds (about 20 minutes)
    python benchmarks/run.py --rounds 1 --duration 2 --servers asgicy,ceiling   # a quick look

What it does, so that the numbers mean something on a 2-core machine:
- installs what it needs itself: wrk (Debian), the compared servers (pinned, into benchmarks/.venv, never
  into the environment asgicy runs in) and loadgen (compiled from loadgen.c);
- pins every server to core 0 and every load generator to core 1, one server process at a time, each
  serving the same app (benchmarks/apps.py) with its access log off;
- drives HTTP/2 with h2load (Debian's nghttp2-client): h2c by prior knowledge, and over TLS with ALPN (a
  self-signed certificate made in benchmarks/.build), each server started in its HTTP/2 mode (granian
  ``--http 2``, uvicorn ``--http zttp --http2``); the servers without HTTP/2 skip those workloads;
- warms each server up, then runs every workload; alternates the order of the servers round by round;
- serves the framework apps (frameworks.py) and TechEmpower's database tests (techempower.py) with the same
  package versions under every server, against a PostgreSQL it starts for the run (postgres.py, pinned to
  the load generator's core);
- measures latency at a fixed rate (loadgen, open loop) after the throughput rounds, at half the rate
  uvicorn sustained in them: what each server's tail looks like where uvicorn still has room;
- reports the median over rounds of each figure and the ratio of each server to asgicy in the same run;
- writes it all, with the machine, the versions and the commit, to benchmarks/results/latest.json
  (render the plots with benchmarks/plot.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import postgres  # beside this file: the database of the database workloads
from postgres import free_port

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
BUILD = HERE / ".build"
COMPETITORS = ["uvicorn[standard]==0.55.0", "zttp==0.0.35", "httptools", "uvloop", "websockets", "wsproto", "h11",
               "hypercorn==0.18.0", "granian==2.8.7", "daphne==4.2.3"]
# What the framework and database apps import, the same versions under every server: installed beside the
# compared servers in .venv, and for asgicy (which runs on this interpreter) into .build/apps-site, put
# ahead of the interpreter's own packages.
APP_PACKAGES = ["starlette==1.10.0", "fastapi==0.165.0", "pydantic==2.13.4", "asyncpg==0.32.0", "jinja2==3.1.6"]
APPS_SITE = BUILD / "apps-site"
SERVER_CORE, LOAD_CORE = "0", "1"


def venv_bin(name: str) -> str:
    return str(VENV / "bin" / name)


# --baseline: another checkout of asgicy (built in place) measured as the server "asgicy-baseline", in the
# same rounds as this one: the A/B of a change.
BASELINE: str | None = None


def tls_files() -> tuple:
    """A self-signed certificate and key for localhost (made once, in .build), for the TLS workloads."""
    cert, key = BUILD / "cert.pem", BUILD / "key.pem"
    if not cert.exists() or not key.exists():
        BUILD.mkdir(exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "3650", "-subj", "/CN=localhost"], check=True, capture_output=True)
    return str(cert), str(key)


# Which servers speak HTTP/2, and what each is told to (the h2load workloads; h2c by prior knowledge, or ALPN
# over TLS). uvicorn's HTTP/2 is its zttp protocol; granian's --http 2 serves only HTTP/2.
H2_SERVERS = {"asgicy", "asgicy-baseline", "asgicy-metrics", "uvicorn", "granian", "hypercorn"}
# asgicy variants: the same server, another checkout (--baseline) or other options.
ASGICY = ("asgicy", "asgicy-baseline", "asgicy-metrics")


def server_command(name: str, port: int, h2: bool = False, tls: bool = False) -> list:
    command = _server_command(name, port, h2)
    if tls:
        cert, key = tls_files()
        if name in (*ASGICY, "uvicorn"):
            command += ["--ssl-certfile", cert, "--ssl-keyfile", key]
        elif name == "granian":
            command[-1:-1] = ["--ssl-certificate", cert, "--ssl-keyfile", key]
        elif name == "hypercorn":
            command[-1:-1] = ["--certfile", cert, "--keyfile", key]
    return command


def _server_command(name: str, port: int, h2: bool) -> list:
    p = str(port)
    if name == "uvicorn" and h2:
        return [venv_bin("python"), "-m", "uvicorn", "apps:app", "--port", p, "--loop", "uvloop", "--http", "zttp",
                "--http2", "--no-access-log", "--log-level", "warning", "--lifespan", "off"]
    if name == "granian" and h2:
        return [venv_bin("granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", p, "--workers", "1",
                "--runtime-threads", "1", "--http", "2", "--log-level", "warning", "apps:app"]
    if name in ASGICY:
        # --loop uvloop, as uvicorn and hypercorn are given it: the plain install runs on asyncio.
        command = [sys.executable, "-m", "asgicy", "apps:app", "--port", p, "--loop", "uvloop", "--no-access-log",
                   "--log-level", "warning", "--lifespan", "off", "--ws-ping-interval", "0",
                   "--no-ws-per-message-deflate"]
        if name == "asgicy-metrics":
            # The Prometheus endpoint on (its port answered by a thread of the server process, pinned with it):
            # what the per-request counting costs.
            command += ["--metrics-port", str(free_port())]
        return command
    if name == "uvicorn":
        return [venv_bin("python"), "-m", "uvicorn", "apps:app", "--port", p, "--loop", "uvloop", "--http",
                "httptools", "--ws", "websockets", "--no-access-log", "--log-level", "warning", "--lifespan",
                "off", "--ws-ping-interval", "0", "--ws-per-message-deflate", "false"]
    if name == "uvicorn-h11":
        return [venv_bin("python"), "-m", "uvicorn", "apps:app", "--port", p, "--loop", "uvloop", "--http", "h11",
                "--ws", "wsproto", "--no-access-log", "--log-level", "warning", "--lifespan", "off"]
    if name == "hypercorn":
        # (HTTP/2 without being told: h2c by prior knowledge, and h2 by ALPN over TLS.)
        return [venv_bin("hypercorn"), "--bind", f"127.0.0.1:{p}", "--worker-class", "uvloop", "--workers", "1",
                "--log-level", "warning", "apps:app"]
    if name == "granian":
        return [venv_bin("granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", p, "--workers", "1",
                "--runtime-threads", "1", "--log-level", "warning", "apps:app"]
    if name == "daphne":
        return [venv_bin("daphne"), "-b", "127.0.0.1", "-p", p, "apps:app"]
    if name == "ceiling":
        return [sys.executable, str(HERE / "ceiling.py"), p]
    raise ValueError(name)


SERVERS = ["asgicy", "uvicorn", "uvicorn-h11", "granian", "hypercorn", "daphne", "ceiling"]
# (name, kind, arguments); the ceiling only answers plain GETs, so it runs the workloads marked "get".
WORKLOADS = [
    ("plaintext", "wrk", {"path": "/plaintext", "connections": 64}),
    ("json", "wrk", {"path": "/json", "connections": 64}),
    # Real apps: one await before answering, the frameworks, a database.
    ("awaiting", "wrk", {"path": "/awaiting", "connections": 64}),
    ("starlette", "wrk", {"path": "/starlette/plaintext", "connections": 64}),
    ("fastapi", "wrk", {"path": "/fastapi/json", "connections": 64}),
    ("db", "wrk", {"path": "/db", "connections": 64}),
    ("queries", "wrk", {"path": "/queries?queries=20", "connections": 64}),
    ("fortunes", "wrk", {"path": "/fortunes", "connections": 64}),
    ("pipelined", "wrk", {"path": "/plaintext", "connections": 64, "script": "pipeline.lua"}),
    ("echo_64k", "wrk", {"path": "/echo", "connections": 16, "script": "post64k.lua"}),
    ("stream", "wrk", {"path": "/stream", "connections": 64}),
    ("file_1m", "wrk", {"path": "/file", "connections": 16}),
    ("new_connection", "wrk", {"path": "/plaintext", "connections": 16, "header": "Connection: close"}),
    ("latency", "loadgen_http", {"path": "/plaintext", "connections": 32, "rate": 2000}),
    # Open loop at half of uvicorn's median in the throughput rounds ("rate" if uvicorn was not measured).
    ("latency_plaintext", "loadgen_http", {"path": "/plaintext", "connections": 64, "half_of": "plaintext",
                                           "rate": 10000}),
    ("latency_db", "loadgen_http", {"path": "/db", "connections": 64, "half_of": "db", "rate": 2000}),
    ("ws_small", "loadgen_ws", {"path": "/ws", "connections": 32, "size": 16}),
    ("ws_awaiting", "loadgen_ws", {"path": "/ws-awaiting", "connections": 32, "size": 16}),
    ("ws_broadcast", "loadgen_broadcast", {"path": "/ws-broadcast", "connections": 100, "size": 16}),
    ("ws_64k", "loadgen_ws", {"path": "/ws", "connections": 8, "size": 65536}),
    ("idle_http", "idle", {"count": 1000, "websocket": False}),
    ("idle_ws", "idle", {"count": 1000, "websocket": True}),
    # HTTP/2 (h2load): h2c by prior knowledge unless "tls" (ALPN); each server started in its HTTP/2 mode.
    ("h2_plaintext", "h2load", {"path": "/plaintext", "connections": 64, "streams": 16}),
    ("h2_one_connection", "h2load", {"path": "/plaintext", "connections": 1, "streams": 100}),
    ("h2_echo_64k", "h2load", {"path": "/echo", "connections": 16, "streams": 4, "post": 65536}),
    ("h2_tls_plaintext", "h2load", {"path": "/plaintext", "connections": 64, "streams": 16, "tls": True}),
    ("idle_h2", "idle", {"count": 1000, "websocket": False, "h2": True}),
]
H2_WORKLOADS = {name for name, kind, args in WORKLOADS if kind == "h2load" or args.get("h2")}
CEILING_WORKLOADS = {"plaintext", "pipelined", "latency", "latency_plaintext", "idle_http", "ws_small"}
DB_WORKLOADS = {"db", "queries", "fortunes", "latency_db"}
# Run after the throughput rounds, at a rate taken from them.
PACED_WORKLOADS = {name for name, kind, args in WORKLOADS if "half_of" in args}


# -- setting up -------------------------------------------------------------------------------------

def ensure_tools(servers: list) -> None:
    missing = [package for tool, package in (("wrk", "wrk"), ("h2load", "nghttp2-client"), ("openssl", "openssl"))
               if shutil.which(tool) is None]
    if missing:
        print(f"installing {', '.join(missing)} (Debian)", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)
    BUILD.mkdir(exist_ok=True)
    loadgen = BUILD / "loadgen"
    if not loadgen.exists() or loadgen.stat().st_mtime < (HERE / "loadgen.c").stat().st_mtime:
        subprocess.run(["gcc", "-O2", "-o", str(loadgen), str(HERE / "loadgen.c")], check=True)
    if any(s not in (*ASGICY, "ceiling") for s in servers) and not _installed():
        print("installing the compared servers into benchmarks/.venv", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([venv_bin("python"), "-m", "pip", "install", "-q", *COMPETITORS, *APP_PACKAGES], check=True)
        (VENV / ".installed").write_text("\n".join(COMPETITORS + APP_PACKAGES))
    marker = APPS_SITE / ".installed"
    if not marker.exists() or marker.read_text() != "\n".join(APP_PACKAGES):
        print("installing the apps' packages into benchmarks/.build/apps-site", flush=True)
        shutil.rmtree(APPS_SITE, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(APPS_SITE), *APP_PACKAGES],
                       check=True)
        marker.write_text("\n".join(APP_PACKAGES))


def _installed() -> bool:
    marker = VENV / ".installed"
    return marker.exists() and marker.read_text() == "\n".join(COMPETITORS + APP_PACKAGES)


def versions(servers: list) -> dict:
    out = {"python": platform.python_version()}
    from asgicy import __version__
    out["asgicy"] = __version__
    if "asgicy-baseline" in servers and BASELINE:
        out["asgicy-baseline"] = subprocess.run(["git", "-C", BASELINE, "rev-parse", "--short", "HEAD"],
                                                capture_output=True, text=True).stdout.strip() or BASELINE
    if (VENV / "bin" / "python").exists():
        listing = subprocess.run([venv_bin("python"), "-m", "pip", "list", "--format", "json"], capture_output=True,
                                 text=True).stdout
        for package in json.loads(listing or "[]"):
            if package["name"].lower() in ("uvicorn", "granian", "hypercorn", "daphne", "httptools", "uvloop",
                                           "websockets", "wsproto", "h11"):
                out[package["name"].lower()] = package["version"]
    out["wrk"] = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    return out


def machine() -> dict:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, cwd=HERE).stdout.strip()
    return result.stdout.strip() + ("+dirty" if dirty else "")


# -- running one server -----------------------------------------------------------------------------

class Running:
    def __init__(self, name: str, h2: bool = False, tls: bool = False) -> None:
        self.name = name
        self.h2 = h2
        self.tls = tls
        self.port = free_port()
        env = None
        if name in ASGICY:
            # The apps' packages (APP_PACKAGES) at the versions the other servers' venv has.
            env = {**os.environ, "PYTHONPATH": str(APPS_SITE)}
        if name == "asgicy-baseline":
            if BASELINE is None:
                raise SystemExit("asgicy-baseline needs --baseline PATH (a checkout, built in place)")
            env["PYTHONPATH"] = os.pathsep.join([BASELINE, str(APPS_SITE)])  # ahead of the installed asgicy
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CORE, *server_command(name, self.port, h2, tls)],
                                     cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.answers():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not start")

    def answers(self) -> bool:
        """True once the server answers a request (h2load's one request, for an HTTP/2 or TLS start)."""
        if self.h2 or self.tls:
            out = subprocess.run(["h2load", "-n", "1", "-c", "1", self.url("/plaintext")], capture_output=True,
                                 text=True).stdout
            return "1 succeeded" in out
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return s.recv(100).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def processes(self) -> list:
        """The server's process and every process under it (granian and hypercorn serve from a child)."""
        found, pending = [], [self.proc.pid]
        while pending:
            pid = pending.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            found.append(pid)
            pending += [int(c) for c in children]
        return found

    def rss_kib(self) -> int:
        """Resident memory of the server's processes, in KiB."""
        total = 0
        for pid in self.processes():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total

    def cpu_seconds(self) -> tuple:
        """CPU time the server's processes (every thread) have used so far: (user and system, system)."""
        user = system = 0
        for pid in self.processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            user += int(fields[11])  # utime, stime: stat fields 14 and 15
            system += int(fields[12])
        tick = os.sysconf("SC_CLK_TCK")
        return (user + system) / tick, system / tick

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def run_wrk(port: int, duration: float, path: str, connections: int, script: str | None = None,
            header: str | None = None) -> dict:
    cmd = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency"]
    if script:
        cmd += ["-s", str(HERE / script)]
    if header:
        cmd += ["-H", header]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    result = {"requests_per_second": float(rps.group(1)) if rps else 0.0}
    if errors:
        result["non_2xx"] = int(errors.group(1))
    if socket_errors:
        result["socket_errors"] = socket_errors.group(1)
    return result


def run_h2load(url: str, duration: float, connections: int, streams: int, post: int = 0) -> dict:
    cmd = ["taskset", "-c", LOAD_CORE, "h2load", "-t", "1", "-c", str(connections), "-m", str(streams),
           "-D", f"{duration:g}"]
    if post:
        body = BUILD / f"post-{post}.bin"
        if not body.exists():
            body.write_bytes(b"x" * post)
        cmd += ["-d", str(body)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True).stdout
    rps = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", out)
    counts = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored",
                       out)
    result = {"requests_per_second": float(rps.group(1)) if rps else 0.0}
    if counts and (int(counts.group(2)) or int(counts.group(3))):
        result["failed"] = int(counts.group(2)) + int(counts.group(3))
    if not rps:
        result["error"] = out.strip()[-200:]
    return result


def run_loadgen(args: list) -> dict:
    out = subprocess.run(["taskset", "-c", LOAD_CORE, str(BUILD / "loadgen"), *map(str, args)], capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[:200]}
    return json.loads(out.stdout)


def _h2_request() -> bytes:
    """An HTTP/2 client's first bytes: the preface, SETTINGS, and one GET on stream 1 (made by the h2 library)."""
    import h2.config
    import h2.connection
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", "/plaintext")],
                        end_stream=True)
    return client.data_to_send()


async def _hold_idle(port: int, count: int, websocket: bool, measure, h2: bool = False) -> float:
    """Opens ``count`` idle connections (each after one request, or a WebSocket handshake); returns KiB each."""
    before = measure()
    writers = []
    request = _h2_request() if h2 else (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n") if websocket else \
        b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
    try:
        for _ in range(count):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            if h2:
                answer = b""
                while b"Hello, world!" not in answer:  # the response's DATA
                    piece = await reader.read(65536)
                    if not piece:
                        raise OSError("the server closed the connection")
                    answer += piece
            else:
                await reader.readuntil(b"\r\n\r\n")
            writers.append(writer)
        await asyncio.sleep(1.0)
        after = measure()
    finally:
        for writer in writers:
            writer.close()
    return round((after - before) / count, 2)


def cpu_per(result: dict, server: Running, before: tuple, unit: str, count: float) -> dict:
    """Adds the server's CPU per ``unit`` since ``before`` (its ``cpu_seconds()``) to ``result``: all of it
    (``cpu_us_per_<unit>``) and the kernel's part (``system_us_per_<unit>``: the socket calls, mostly)."""
    if count:
        after = server.cpu_seconds()
        result[f"cpu_us_per_{unit}"] = round((after[0] - before[0]) * 1e6 / count, 2)
        result[f"system_us_per_{unit}"] = round((after[1] - before[1]) * 1e6 / count, 2)
    return result


# Latency at a fixed rate leaves the server's core idle between requests, and on a virtual machine an idle
# vCPU may not get its host CPU back at once: here a server waking from idle sometimes waited ~100 ms
# (the ceiling server alone at 11,000 requests/s: a 100 ms maximum in 4 of 8 three-second runs). The more
# efficient the server, the more it idles and the more it is hit. So while a paced workload runs, a busy
# loop of the lowest class (SCHED_IDLE: any runnable server thread preempts it at once) keeps the server's
# core awake, the same for every server (0 of 8 such runs then showed the stall). --no-keep-core-awake
# measures without it.
KEEP_CORE_AWAKE = True


@contextlib.contextmanager
def core_kept_awake(core: str):
    # chrt and taskset exec what they run: the process is the busy loop itself.
    spinner = subprocess.Popen(["chrt", "--idle", "0", "taskset", "-c", core, "sh", "-c", "while :; do :; done"])
    try:
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()


def run_workload(server: Running, name: str, kind: str, args: dict, duration: float) -> dict:
    if kind == "wrk":
        run_wrk(server.port, 1, args["path"], args["connections"], args.get("script"), args.get("header"))  # warm
        before = server.cpu_seconds()
        result = run_wrk(server.port, duration, args["path"], args["connections"], args.get("script"),
                         args.get("header"))
        # The server's CPU per request: what a request costs it even where something else (the database,
        # the load generator's core) holds the throughput down.
        cpu_per(result, server, before, "request", result["requests_per_second"] * duration)
        return result
    if kind == "loadgen_http":
        with core_kept_awake(SERVER_CORE) if KEEP_CORE_AWAKE else contextlib.nullcontext():
            if "half_of" in args:  # warm the server (and its database pool) up first, as wrk's workloads do
                run_wrk(server.port, 1, args["path"], args["connections"])
            return run_loadgen(["http", "127.0.0.1", server.port, args["path"], args["connections"],
                                args["rate"], duration])
    if kind == "loadgen_ws":
        before = server.cpu_seconds()
        result = run_loadgen(["ws", "127.0.0.1", server.port, args["path"], args["connections"], args["size"],
                              duration])
        return cpu_per(result, server, before, "message", result.get("messages", 0))
    if kind == "loadgen_broadcast":
        before = server.cpu_seconds()
        result = run_loadgen(["broadcast", "127.0.0.1", server.port, args["path"], args["connections"],
                              args["size"], duration])
        return cpu_per(result, server, before, "delivery", result.get("deliveries", 0))
    if kind == "h2load":
        url = server.url(args["path"])
        run_h2load(url, 1, args["connections"], args["streams"], args.get("post", 0))  # warm
        return run_h2load(url, duration, args["connections"], args["streams"], args.get("post", 0))
    if kind == "idle":
        try:
            kib = asyncio.run(_hold_idle(server.port, args["count"], args["websocket"], server.rss_kib,
                                         args.get("h2", False)))
        except (OSError, asyncio.IncompleteReadError) as exc:
            return {"error": str(exc)[:200]}
        return {"kib_per_connection": kib}
    raise ValueError(kind)


# -- the comparison ---------------------------------------------------------------------------------

HEADLINE = {"wrk": "requests_per_second", "h2load": "requests_per_second", "loadgen_ws": "messages_per_second",
            "loadgen_http": "p99_us", "loadgen_broadcast": "deliveries_per_second",
            "idle": "kib_per_connection"}


def run_rounds(servers: list, workloads: list, rounds: int, duration: float, raw: dict) -> None:
    """``rounds`` rounds of every workload on every server, the servers' order turning round by round."""
    for round_no in range(rounds if workloads else 0):
        order = servers[round_no % len(servers):] + servers[:round_no % len(servers)]
        for name in order:
            print(f"round {round_no + 1}/{rounds}: {name}", flush=True)
            # One start of the server per mode: HTTP/1.1, HTTP/2 (h2c), HTTP/2 over TLS.
            for h2, tls in ((False, False), (True, False), (True, True)):
                group = [w for w in workloads if (w[0] in H2_WORKLOADS) == h2 and bool(w[2].get("tls")) == tls
                         and (not h2 or name in H2_SERVERS) and (name != "ceiling" or w[0] in CEILING_WORKLOADS)]
                if not group:
                    continue
                server = Running(name, h2, tls)
                try:
                    for workload, kind, wargs in group:
                        result = run_workload(server, workload, kind, wargs, duration)
                        raw[name][workload].append(result)
                        print(f"  {workload:<17} {result}", flush=True)
                finally:
                    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="asgicy against the other ASGI servers, on this machine.")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    parser.add_argument("--baseline", help="a checkout of asgicy, built in place, to measure as the server "
                        "asgicy-baseline beside this one (an A/B: --servers asgicy,asgicy-baseline)")
    parser.add_argument("--no-keep-core-awake", dest="keep_core_awake", action="store_false",
                        help="paced (latency) workloads: leave the server's core idle between requests "
                        "(see KEEP_CORE_AWAKE)")
    args = parser.parse_args()
    global BASELINE, KEEP_CORE_AWAKE
    BASELINE = str(Path(args.baseline).resolve()) if args.baseline else None
    KEEP_CORE_AWAKE = args.keep_core_awake
    servers = args.servers.split(",")
    wanted = set(args.workloads.split(","))
    workloads = [w for w in WORKLOADS if w[0] in wanted]
    ensure_tools(servers)
    raw: dict = {s: {w[0]: [] for w in workloads} for s in servers}
    with contextlib.ExitStack() as stack:
        if any(w[0] in DB_WORKLOADS for w in workloads):
            database = stack.enter_context(postgres.Postgres(core=LOAD_CORE))
            os.environ["BENCH_DATABASE_URL"] = database.dsn  # the servers inherit it
        throughput = [w for w in workloads if w[0] not in PACED_WORKLOADS]
        run_rounds(servers, throughput, args.rounds, args.duration, raw)
        paced = []
        for name, kind, wargs in workloads:
            if name in PACED_WORKLOADS:
                measured = [r.get("requests_per_second", 0) for r in raw.get("uvicorn", {}).get(wargs["half_of"], [])]
                if measured and statistics.median(measured) > 0:
                    wargs = {**wargs, "rate": round(statistics.median(measured) / 2)}
                paced.append((name, kind, wargs))
        run_rounds(servers, paced, args.rounds, args.duration, raw)
        workloads = [w for w in workloads if w[0] not in PACED_WORKLOADS] + paced
    summary: dict = {}
    for workload, kind, _ in workloads:
        key = HEADLINE[kind]
        row = {}
        for name in servers:
            values = [r[key] for r in raw[name][workload] if key in r]
            if values:
                row[name] = statistics.median(values)
        base = row.get("asgicy")
        summary[workload] = {"metric": key, "median": row,
                             "ratio_to_asgicy": {n: round(v / base, 3) for n, v in row.items()} if base else {}}
    report = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit(),
              "machine": machine(), "versions": versions(servers),
              "method": {"rounds": args.rounds, "duration_s": args.duration, "server_core": SERVER_CORE,
                         "load_core": LOAD_CORE, "workloads": {w[0]: w[2] for w in workloads},
                         "server_core_kept_awake_when_paced": KEEP_CORE_AWAKE},
              "command": "python benchmarks/run.py " + " ".join(sys.argv[1:]),
              "summary": summary, "raw": raw}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out}")
    for workload, data in summary.items():
        cells = "  ".join(f"{n}={v:,.0f}" if v >= 100 else f"{n}={v}" for n, v in data["median"].items())
        print(f"{workload:<15} {data['metric']:<22} {cells}")


if __name__ == "__main__":
    main()
