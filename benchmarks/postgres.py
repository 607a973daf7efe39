"""A throwaway PostgreSQL for the database workloads: the TechEmpower schema and data, on 127.0.0.1.

    with Postgres() as pg:          # initdb in a temporary directory, start, create and fill the tables
        pg.dsn                      # postgresql://postgres@127.0.0.1:PORT/hello_world

Debian's ``postgresql`` package provides the binaries (``ensure_installed`` installs it if missing). The
cluster lives in a temporary directory, trusts local connections (it listens on 127.0.0.1 only, on a free
port, and ends with the ``with``), and runs as the ``postgres`` user when this runs as root (PostgreSQL
refuses to run as root). ``core`` pins it to one CPU (``benchmarks/run.py`` gives it the load generator's
core: on a 2-core machine the server under test keeps a core to itself). The data is TechEmpower's:
``world`` with 10,000 rows of random numbers, ``fortune`` with its 12 messages.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

WORLD_ROWS = 10_000
# TechEmpower's fortunes (id, message): an HTML-escaping test (2), non-ASCII text (6, 11), and sorting.
FORTUNES = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
]


def binaries() -> Path | None:
    """The directory of the newest installed PostgreSQL's server binaries (Debian's layout), if any."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


def ensure_installed() -> Path:
    if binaries() is None:
        print("installing postgresql (Debian)", flush=True)
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
                       check=True, env=env)
    found = binaries()
    if found is None:
        raise RuntimeError("postgresql is not installed and could not be installed")
    return found


def free_port() -> int:
    """A TCP port nobody listens on now (run.py's servers take theirs the same way)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, core: str | None = None) -> None:
        self.core = core
        self.bin = ensure_installed()
        self.port = free_port()
        self.dir: str | None = None
        self.proc: subprocess.Popen | None = None
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/hello_world"

    def _as_owner(self, command: list) -> list:
        # PostgreSQL will not run as root: as the postgres user then (the Debian package makes it).
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def __enter__(self) -> Postgres:
        self.dir = tempfile.mkdtemp(prefix="asgicy-pg-")
        data = Path(self.dir) / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(self._as_owner([str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                       "--encoding=UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        command = self._as_owner([str(self.bin / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p",
                                  str(self.port), "-k", self.dir, "-c", "fsync=off", "-c", "max_connections=200",
                                  "-c", "shared_buffers=128MB", "-c", "synchronous_commit=off"])
        if self.core is not None:
            command = ["taskset", "-c", self.core, *command]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self._wait_ready()
            self._load()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _psql(self, sql: str, database: str = "hello_world") -> None:
        psql = self.bin / "psql"
        subprocess.run([str(psql) if psql.exists() else "psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                        "-p", str(self.port), "-U", "postgres", "-d", database],
                       input=sql, text=True, check=True, capture_output=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {self.proc.stderr.read().decode()[-500:]}")
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("postgres did not start within 30 s")

    def _load(self) -> None:
        self._psql("CREATE DATABASE hello_world", database="postgres")
        rng = random.Random(1)
        worlds = ",".join(f"({i},{rng.randint(1, 10_000)})" for i in range(1, WORLD_ROWS + 1))
        fortunes = ",".join("(%d,'%s')" % (i, message.replace("'", "''")) for i, message in FORTUNES)
        self._psql('CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0);'
                   'CREATE TABLE fortune (id integer PRIMARY KEY, message varchar(2048) NOT NULL);'
                   f"INSERT INTO world (id, randomnumber) VALUES {worlds};"
                   f"INSERT INTO fortune (id, message) VALUES {fortunes};"
                   "ANALYZE;")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: PostgreSQL's smart shutdown (clients are gone by now)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
