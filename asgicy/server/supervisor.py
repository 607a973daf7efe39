"""The supervisor: worker processes sharing one listening socket, and ``--reload``.

The supervisor binds the socket(s) itself and hands them to each worker, so the socket stays open while a
worker is replaced: connections that arrive then wait in the backlog instead of being refused. Each worker
is a fresh interpreter (multiprocessing's spawn), imports the app itself, runs its own event loop and its own
lifespan, and talks back over a pipe: "ready" once it listens, then a heartbeat from its event loop's
ticker (twice a second), so a worker whose loop is stuck is seen as hung, not only one that died.

- A worker that dies is replaced; one whose heartbeat stops for ``--timeout-worker-healthcheck`` seconds is
  killed and replaced. A worker that retires after ``--limit-max-requests`` exits 0 and is replaced.
- If a worker fails while the server starts (its import or lifespan startup failed) everything stops and
  the supervisor exits with that worker's code: the same error would only repeat in every worker.
- SIGHUP rolls the workers one at a time: a new worker starts and reports ready before an old one is told
  to stop, and the old one finishes the requests it has; no request is dropped and capacity never falls.
  If a new worker fails to start, the roll stops and the old workers go on serving.
- SIGINT/SIGTERM stop every worker gracefully (each finishes its requests within
  ``--timeout-graceful-shutdown``), then the supervisor exits.
- ``--reload`` is one worker and a watchfiles watcher: on a change the worker is replaced; an app that no
  longer imports is reported and the next change tried, so a typo does not end a development session.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import wait

from ..config import Config
from .server import StartupError, bind_sockets, describe_bound

logger = logging.getLogger("asgicy.error")

READY, BEAT = b"r", b"b"
# --reload: how long each of the watcher's waits lasts when nothing changes (the first one ending tells that
# the watches are in place), and how long the supervisor waits for that before starting the workers anyway.
WATCH_READY_MS = 100
WATCH_START_TIMEOUT = 10.0
DEFAULT_RELOAD_EXCLUDES = (".*", ".*/*", "*.py[cod]", "*.sw?", "*~", "__pycache__", "*/__pycache__/*")


class Worker:
    def __init__(self, process, reader, number: int) -> None:
        self.process = process
        self.reader = reader
        self.number = number
        self.ready = False
        self.stopping = False  # told to stop (a roll or a reload): its exit is expected
        self.last_beat = time.monotonic()
        self.replace_reason = ""  # why it is being replaced (max_memory, unresponsive), for the metrics

    @property
    def pid(self) -> int:
        return self.process.pid


def resident_mib(pid: int) -> float | None:
    """A process's resident set size in MiB (/proc/PID/statm), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * PAGE_SIZE / (1024 * 1024)


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# How often the supervisor reads its workers' memory (--limit-max-memory), in seconds.
MEMORY_CHECK_INTERVAL = 1.0


def worker_main(config_options: dict, sockets: list, writer, log_config: tuple) -> None:
    """The entry point of a worker process (spawned): serve on the inherited sockets until told to stop."""
    from ..demo import DEMO_APP
    from ..importer import AppImportError, import_from_string
    from .logs import configure_logging
    from .server import run_server

    configure_logging(*log_config)
    # Ctrl+C in a terminal reaches the whole process group; the supervisor turns it into one SIGTERM for
    # each worker, and a second signal here would cut its graceful shutdown short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a roll is the supervisor's to do, not a worker's
    options = dict(config_options)
    try:
        app = import_from_string(options.pop("app") or DEMO_APP, options["app_dir"], options["factory"])
    except AppImportError as exc:
        logger.error("%s", exc)
        raise SystemExit(1)

    def on_ready():
        writer.send_bytes(READY)

    def heartbeat():
        try:
            writer.send_bytes(BEAT)
        except OSError:  # the supervisor is gone: stop too
            os.kill(os.getpid(), signal.SIGTERM)

    config = Config(app=app, **options)
    raise SystemExit(run_server(config, sockets=sockets, on_ready=on_ready, heartbeat=heartbeat,
                                serve_metrics=False))


class Supervisor:
    def __init__(self, config: Config, sockets: list | None = None, notifier=None) -> None:
        """``sockets``: listening sockets systemd passed (else the supervisor binds its own); ``notifier``:
        a systemd.Notifier, told when the workers are ready, replaced and stopping."""
        self.config = config
        self.workers: list = []
        self.sockets: list = list(sockets or [])
        self.notifier = notifier
        self.metrics = None  # with --metrics-port: the restarts counter and the port itself
        self.endpoint = None
        self.metrics_directory = None
        self.next_memory_check = 0.0
        self.context = multiprocessing.get_context("spawn")
        self.stop_requested = False
        self.roll_requested = False
        self.rolling: list = []  # old workers waiting to be replaced, in order
        self.starting: list = []  # workers not ready yet, by the roll
        self.reload_event = threading.Event()
        self.watch_stop = threading.Event()  # set when the supervisor stops, so the watcher thread ends too
        self.watch_ready = threading.Event()  # set once the watcher sees the files (or gave up)
        self.exit_code = 0
        self.number = 0
        self.in_startup = True

    # -- processes ----------------------------------------------------------------------------------

    def _options(self) -> dict:
        options = {f.name: getattr(self.config, f.name) for f in Config.options()}
        options["app"] = self.config.app
        # The worker serves on the sockets given to it; it must not bind again or supervise in turn.
        options.update(workers=1, reload=False, fd=None, uds=None, config_file=None, env_file=None)
        return options

    def spawn(self) -> Worker:
        reader, writer = self.context.Pipe(duplex=False)
        self.number += 1
        config = self.config
        log_config = (config.log_level, config.access_log, config.log_format, config.log_config)
        process = self.context.Process(target=worker_main, name=f"asgicy-worker-{self.number}",
                                       args=(self._options(), self.sockets, writer, log_config))
        process.start()
        writer.close()  # the child has its own copy; ours would keep the pipe open after the child dies
        worker = Worker(process, reader, self.number)
        self.workers.append(worker)
        logger.info("Started worker process [%d]", worker.pid)
        return worker

    def _terminate(self, worker: Worker) -> None:
        worker.stopping = True
        if worker.process.is_alive():
            os.kill(worker.pid, signal.SIGTERM)

    # -- signals ------------------------------------------------------------------------------------

    def _on_stop(self, signum, frame) -> None:
        if self.stop_requested:
            logger.info("Second stop signal: workers are told to stop waiting for requests")
            for worker in self.workers:
                if worker.process.is_alive():
                    os.kill(worker.pid, signal.SIGTERM)  # a worker's second SIGTERM is its force-exit
        self.stop_requested = True

    def _on_hup(self, signum, frame) -> None:
        self.roll_requested = True

    # -- the loop -----------------------------------------------------------------------------------

    def run(self) -> int:
        config = self.config
        if not self.sockets:
            try:
                self.sockets = bind_sockets(config)
            except StartupError as exc:
                logger.error("%s", exc)
                return 1
            for line in describe_bound(self.sockets, config.is_ssl):
                logger.info("%s", line)
        if config.metrics_port is not None:
            from .metrics import Endpoint, Metrics, MetricsPortError, MultiprocessDirectory
            self.metrics_directory = MultiprocessDirectory()  # before the workers start, and before the import
            try:
                self.endpoint = Endpoint(config.metrics_host, config.metrics_port, multiprocess=True)
            except MetricsPortError as exc:
                logger.error("%s", exc)
                self.metrics_directory.remove()
                for sock in self.sockets:
                    sock.close()
                return 1
            self.metrics = Metrics.for_supervisor()
        logger.info("Started supervisor process [%d] with %s", os.getpid(),
                    "a reloader" if config.reload else f"{config.workers} workers")
        previous = {sig: signal.signal(sig, self._on_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._on_hup)
        watcher = None
        try:
            if config.reload:
                watcher = threading.Thread(target=self._watch, name="asgicy-reload", daemon=True)
                watcher.start()
                if not self.watch_ready.wait(WATCH_START_TIMEOUT):
                    logger.warning("The file watcher is not ready after %.0f s; starting anyway", WATCH_START_TIMEOUT)
            for _ in range(config.workers):
                self.spawn()
            self._loop()
        finally:
            # The workers hold their own copies of the listening sockets: closing ours first means the
            # socket stops listening as soon as they stop accepting, rather than queueing connections
            # that nobody will accept until the last worker has finished.
            for sock in self.sockets:
                sock.close()
            if self.notifier is not None:
                self.notifier.stopping()
            self._stop_all()
            self.watch_stop.set()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if config.uds and os.path.exists(config.uds):
                os.unlink(config.uds)
            if self.endpoint is not None:
                self.endpoint.close()
                self.metrics_directory.remove()
        logger.info("Stopped supervisor process [%d]", os.getpid())
        return self.exit_code

    def _loop(self) -> None:
        config = self.config
        while not self.stop_requested:
            waitables = [w.reader for w in self.workers] + [w.process.sentinel for w in self.workers]
            ready = wait(waitables, timeout=0.25) if waitables else time.sleep(0.25) or []
            now = time.monotonic()
            for worker in list(self.workers):
                if worker.reader in ready:
                    self._read_messages(worker, now)
                if not worker.process.is_alive():
                    if not self._on_exit(worker):
                        return
                elif worker.ready and now - worker.last_beat > config.timeout_worker_healthcheck:
                    logger.error("Worker process [%d] has not responded for %.0f s: killed, to be replaced",
                                 worker.pid, now - worker.last_beat)
                    worker.replace_reason = "unresponsive"
                    worker.process.kill()
            if self.in_startup and self.workers and all(w.ready for w in self.workers):
                self.in_startup = False
                if self.notifier is not None:
                    self.notifier.ready(f"{len(self.workers)} worker(s) serving")
            if self.notifier is not None:
                self.notifier.watchdog()
            if config.limit_max_memory is not None and now >= self.next_memory_check and not self.in_startup:
                self.next_memory_check = now + MEMORY_CHECK_INTERVAL
                self._check_memory()
            if self.roll_requested:
                self.roll_requested = False
                if not self.rolling and not self.in_startup:
                    self.rolling = [w for w in self.workers if not w.stopping]
                    logger.info("SIGHUP: replacing %d worker(s) one at a time", len(self.rolling))
                    if self.notifier is not None:
                        self.notifier.reloading()
            if self.reload_event.is_set() and not self.stop_requested:
                self.reload_event.clear()
                self._reload()
            self._advance_roll()

    def _read_messages(self, worker: Worker, now: float) -> None:
        try:
            while worker.reader.poll():
                message = worker.reader.recv_bytes()
                worker.last_beat = now
                if message == READY and not worker.ready:
                    worker.ready = True
        except (EOFError, OSError):
            pass  # the worker exited; its sentinel says so

    def _check_memory(self) -> None:
        """--limit-max-memory: a ready worker past the limit is replaced as a SIGHUP roll replaces one (its
        successor starts, and once that is ready, it finishes its requests and exits)."""
        limit = self.config.limit_max_memory
        for worker in self.workers:
            if not worker.ready or worker.stopping or worker in self.rolling or worker in self.starting:
                continue
            rss = resident_mib(worker.pid)
            if rss is not None and rss > limit:
                logger.warning("Worker process [%d] uses %.0f MiB, more than limit-max-memory (%d MiB): replacing "
                               "it", worker.pid, rss, limit)
                worker.replace_reason = "max_memory"
                self.rolling.append(worker)

    def _restarted(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.worker_restarted(reason)

    def _on_exit(self, worker: Worker) -> bool:
        """Handles a worker that exited; returns False when the supervisor must stop."""
        self.workers.remove(worker)
        if self.metrics_directory is not None:
            self.metrics_directory.worker_gone(worker.pid)
        worker.reader.close()
        worker.process.join()
        code = worker.process.exitcode
        if worker in self.starting:
            self.starting.remove(worker)
        if worker in self.rolling:
            self.rolling.remove(worker)  # its replacement below runs the new code anyway
        if worker.stopping:
            logger.info("Worker process [%d] stopped", worker.pid)
            return True
        if not worker.ready:
            if self.config.reload and not self.in_startup:
                logger.error("Worker process [%d] failed to start (exit code %s); waiting for a change to "
                             "the code", worker.pid, code)
                return True
            if self.in_startup:
                logger.error("Worker process [%d] failed to start (exit code %s): stopping", worker.pid, code)
                self.exit_code = code if code and code > 0 else 3
                return False
            logger.error("Worker process [%d] failed to start (exit code %s)", worker.pid, code)
            if self.rolling:
                logger.error("Stopping the roll: the old workers go on serving")
                self.rolling = []
                return True
            time.sleep(1)  # a replacement that cannot start: retry, but not in a tight loop
        elif code == 0:
            logger.info("Worker process [%d] retired (limit-max-requests); starting a new one", worker.pid)
            self._restarted("max_requests")
        else:
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            logger.error("Worker process [%d] died (%s); starting a new one", worker.pid, how)
            self._restarted(worker.replace_reason or "died")
        self.spawn()
        return True

    def _advance_roll(self) -> None:
        """One step of a SIGHUP roll: start a replacement; when it is ready, stop the old worker."""
        if not self.rolling and not self.starting:
            return
        if not self.starting:
            self.starting.append(self.spawn())
            return
        new = self.starting[0]
        if not self.rolling:
            # The old workers left died meanwhile and were replaced already: this one would be extra.
            self.starting.clear()
            self._terminate(new)
        elif new.ready:
            self.starting.clear()
            old = self.rolling.pop(0)
            logger.info("Worker process [%d] is ready; stopping worker process [%d]", new.pid, old.pid)
            self._terminate(old)
            self._restarted(old.replace_reason or "roll")
            if not self.rolling:
                logger.info("All workers replaced")
                if self.notifier is not None:
                    self.notifier.ready(f"{len(self.workers)} worker(s) serving")

    def _reload(self) -> None:
        for worker in list(self.workers):
            self._terminate(worker)
            worker.process.join(self._grace())
            if worker.process.is_alive():
                worker.process.kill()
        self.spawn()

    def _grace(self) -> float:
        timeout = self.config.timeout_graceful_shutdown
        return (30.0 if timeout is None else timeout) + self.config.shutdown_delay + 5.0

    def _stop_all(self) -> None:
        for worker in self.workers:
            self._terminate(worker)
        deadline = time.monotonic() + self._grace()
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                logger.warning("Worker process [%d] did not stop in time: killed", worker.pid)
                worker.process.kill()
                worker.process.join(5)

    # -- --reload -----------------------------------------------------------------------------------

    def _watch(self) -> None:
        try:
            self._watch_files()
        finally:
            self.watch_ready.set()  # also when it could not start: the workers are not held back

    def _watch_files(self) -> None:
        try:
            import watchfiles
        except ImportError:
            logger.error("--reload needs watchfiles (pip install 'asgicy[standard]'); not reloading")
            return
        config = self.config
        directories = [os.path.abspath(d) for d in (config.reload_dirs or ["."])]
        includes = ["*.py", *config.reload_includes]
        excludes = [*DEFAULT_RELOAD_EXCLUDES, *config.reload_excludes]
        logger.info("Watching %s for changes to %s", ", ".join(directories), ", ".join(includes))

        def wanted(change, path: str) -> bool:
            from fnmatch import fnmatch

            for root in directories:
                if path.startswith(root + os.sep):
                    relative = path[len(root) + 1:]
                    break
            else:
                relative = os.path.basename(path)
            name = os.path.basename(path)
            if any(fnmatch(name, pattern) or fnmatch(relative, pattern) for pattern in excludes):
                return False
            return any(fnmatch(name, pattern) or fnmatch(relative, pattern) for pattern in includes)

        # The watches are in place once watch() first yields: with a change, or (yield_on_timeout) after
        # WATCH_READY_MS without one. The workers start only then, so a change made as soon as the server
        # answers is seen (it was missed while the watcher was still starting).
        for changes in watchfiles.watch(*directories, watch_filter=wanted, debounce=int(config.reload_delay * 1000),
                                        stop_event=self.watch_stop, yield_on_timeout=True,
                                        rust_timeout=WATCH_READY_MS, raise_interrupt=False):
            self.watch_ready.set()
            if not changes:
                continue
            changed = sorted({os.path.relpath(path) for _, path in changes})
            logger.warning("Changes in %s: reloading", ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else ""))
            self.reload_event.set()

