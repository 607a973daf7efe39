# cython: language_level=3, annotation_typing=False
"""What every connection protocol shares: the transport, writing with backpressure, reading pauses,
the Date/Server header lines, and closing. ``HTTPProtocol`` and ``WebSocketProtocol`` build on it."""

from __future__ import annotations

import logging
import os
import stat
import sys
from email.utils import formatdate
from itertools import count
from time import monotonic

from ..asgi.errors import ClientDisconnected
from ..asgi.http1 import HTTP1Sink
from ..proxy import TrustedPeers
from .eager import AppRunner
from .logs import AccessLogger

logger = logging.getLogger("asgicy.error")

# Bytes read per step when a file cannot go through sendfile (TLS, or a transport without a socket).
FILE_COPY_CHUNK = 256 * 1024
# Writes collected while a read is being handled go to the transport together once they reach this size
# (and otherwise at the end of the event loop's turn, see ServerState.flush_held), so an app that streams
# without waiting still meets the transport's flow control (uvloop's default high-water mark is 64 KiB).
BATCH_LIMIT = 64 * 1024
# From this size a batch of several pieces is handed over as it is, for the transport to gather with one
# writev(2); smaller ones are joined, which costs less than the transport's per-piece bookkeeping.
WRITEV_SIZE = 16 * 1024


# CPython 3.12.0-3.12.8 and 3.13.0-3.13.1: the writelines() of asyncio's selector socket transport never
# pauses its protocol at the high-water mark (CPython gh-127655, GHSA-fw89-6wjj-8j95), so a client that
# does not read would let the server buffer without bound. There, pieces go through write() one by one,
# which does pause (two send(2) where writev(2) took one). uvloop's and TLS transports are not affected.
_UNPAUSED_WRITELINES = (3, 12) <= sys.version_info[:3] < (3, 12, 9) or (3, 13) <= sys.version_info[:3] < (3, 13, 2)


def writelines_pauses(transport) -> bool:
    """Whether ``transport.writelines`` applies flow control, as ``write`` does (see above)."""
    return not (_UNPAUSED_WRITELINES and type(transport).__module__ == "asyncio.selector_events")


# Seconds between the server's ticks (server.py), which check timeouts and refresh the Date line.
TICK = 0.5


# Upper bounds (seconds) of the request duration histogram: Prometheus' default buckets, with three below
# 5 ms, where most of this server's answers fall.
DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The reasons a request is refused before or instead of its app, by the status it is answered with.
REFUSAL_REASONS = {400: "bad_request", 408: "timeout", 413: "body_too_large", 414: "uri_too_long",
                   431: "header_fields_too_large", 503: "limit_concurrency"}
# The longest request id taken from a proxy's header (the rest of the header is not trusted either).
MAX_REQUEST_ID = 200


class Tally:
    """What the metrics count, kept by one worker in plain numbers: a response costs a few C-level
    additions here, and ``asgicy.server.metrics`` hands the sums to prometheus_client at each tick (so a
    scrape sees them at most one tick late, and a request never waits on a metrics lock or file).

    Compiled (connection.pxd), the two tables are C arrays of integers, read through response_counts()
    and bucket_counts(): an addition to a list would make a new int object per response."""

    def __init__(self) -> None:
        self.responses = [0, 0, 0, 0, 0, 0]  # by status class: 1xx at [1] ... 5xx at [5]
        # Request durations by bucket, the last one +Inf: len(DURATION_BUCKETS) + 1 of them, written out so
        # that Cython can give it a C array (tests/production/test_observability.py holds the length).
        self.buckets = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        self.duration_sum = 0.0
        self.body_in = 0  # request body bytes
        self.bytes_out = 0  # response bytes (cycle.response_size: HTTP/1.1 counts the head and framing too)
        self.refusals: dict = {}  # reason -> count
        self.websockets = 0  # WebSocket sessions accepted
        self.websocket_messages_in = 0
        self.websocket_messages_out = 0

    def response(self, cycle, seconds: float) -> None:
        index = cycle.status // 100
        self.responses[index] += 1
        self.duration(seconds)
        self.body_in += cycle.body_received
        self.bytes_out += cycle.response_size

    def duration(self, seconds: float) -> None:
        # Prometheus buckets are "less than or equal": a value equal to a bound is in its bucket. A walk from
        # the smallest bound (compiled: C doubles), since most requests end in the first few; bisect's
        # generic comparisons cost more than the whole walk.
        index = 0
        for bound in DURATION_BUCKETS:
            if seconds <= bound:
                break
            index += 1
        self.buckets[index] += 1
        self.duration_sum += seconds

    def response_counts(self) -> list:
        """Responses by status class: [unused, 1xx, 2xx, 3xx, 4xx, 5xx]."""
        return list(self.responses)

    def bucket_counts(self) -> list:
        """Durations by bucket of DURATION_BUCKETS (not cumulative), then those above the last bound."""
        return list(self.buckets)

    def refusal(self, status: int) -> None:
        reason = REFUSAL_REASONS.get(status, "other")
        self.refusals[reason] = self.refusals.get(reason, 0) + 1

    def websocket_done(self, cycle) -> None:
        self.websocket_messages_in += cycle.messages_in
        self.websocket_messages_out += cycle.messages_out

    def take(self) -> Tally:
        """What was counted since the last take, as a Tally of its own; this one starts again from zero."""
        taken = Tally()
        (taken.responses, taken.buckets, taken.duration_sum, taken.body_in, taken.bytes_out, taken.refusals,
         taken.websockets, taken.websocket_messages_in, taken.websocket_messages_out) = (
            self.responses, self.buckets, self.duration_sum, self.body_in, self.bytes_out, self.refusals,
            self.websockets, self.websocket_messages_in, self.websocket_messages_out)
        self.__init__()
        return taken


class ServerState:
    """What every connection of one server shares: its config and app, the runner and the registries
    shutdown walks (connections, cycles whose app runs, tasks), the clock and the Date/Server lines, the
    lifespan state each scope gets a copy of, and the connections whose output waits for the end of the
    loop's turn. Compiled (connection.pxd), the fields a request reads are C fields."""

    def __init__(self, config, app, loop, ssl_context=None, tls_info=None) -> None:
        self.config = config
        self.app = app
        self.loop = loop
        self.connections: set = set()
        self.cycles: set = set()  # requests whose app is running
        self.tasks: set = set()
        self.runner = AppRunner(loop, self.tasks)  # runs apps eagerly, on pooled host tasks
        self.requests = 0  # responses completed, for --limit-max-requests
        # The event loop's time at the last tick. A deadline the ticker checks needs no finer clock than
        # the ticker itself, and reading this costs nothing where loop.time() is a call per response.
        self.clock = 0.0
        self.lifespan_state = None  # the lifespan state dict every scope gets a copy of (None: no "state")
        self.server_header = b"server: asgicy\r\n" if config.server_header else b""
        self.date_header = b""
        self.date_and_server_header = self.server_header  # the two lines most responses get, joined
        self.access_log = config.access_log
        self.access = AccessLogger(config.access_log_format,
                                   structured=config.log_format == "json" or config.log_config is not None)
        self.tally = Tally() if config.metrics_port is not None else None
        # Whether a complete response is reported (response_done): to the access log, to the metrics.
        self.observe_responses = config.access_log or self.tally is not None
        # Only a log line that shows a duration, or the metrics, pay for a clock read per request.
        self.time_requests = (config.access_log and self.access.timed) or self.tally is not None
        # Set by the server from SIGTERM on, with --shutdown-delay: responses close their connections, and
        # the readiness path is answered 503 (answers_readiness).
        self.draining = False
        self.open_websockets = 0  # accepted WebSockets whose app still runs (a metrics gauge)
        self.readiness_path = config.readiness_path
        self.request_ids = config.request_id
        self.request_id_header = config.request_id_header.lower().encode("ascii")
        self.echo_request_id = config.request_id_response
        # New ids: this process's random prefix and a counter, unique without a system call per request.
        self.id_prefix = os.urandom(6).hex() + "-"
        self.id_counter = count(1)
        self.trusted = TrustedPeers.parse(config.forwarded_allow_ips)
        self.ssl_context = ssl_context
        self.tls_info = tls_info
        # Connections whose reads wrote something that waits for the end of this turn of the event loop
        # (Connection.end_collecting); flush_held hands it all to the transports then.
        self.held_connections: list = []
        self.refresh_date()

    def refresh_date(self) -> None:
        """The server's tick: the clock, and the Date line (RFC 9110 6.6.1: one-second resolution)."""
        self.clock = self.loop.time()
        if self.config.date_header:
            self.date_header = b"date: " + formatdate(usegmt=True).encode("ascii") + b"\r\n"
            self.date_and_server_header = self.date_header + self.server_header

    def response_done(self, conn, cycle) -> None:
        """A response is complete: its access line and its place in the metrics."""
        if self.access_log:
            self.access.log(conn, cycle)
        if self.tally is not None:
            now = monotonic()  # (compiled: a C double, so the subtraction makes no float object)
            self.tally.response(cycle, now - cycle.started)

    def refused(self, status: int) -> None:
        """The server answered ``status`` itself, refusing a request (metrics: refusals by reason)."""
        if self.tally is not None:
            self.tally.refusal(status)

    def assign_request_id(self, scope: dict, headers, trusted: bool) -> str:
        """The request's id (--request-id): a trusted proxy's, if it sent one fit for a log line (visible
        ASCII, at most MAX_REQUEST_ID bytes), else a new one; put in ``scope["state"]["request_id"]``."""
        request_id = None
        if trusted:
            name = self.request_id_header
            for key, value in headers:
                if key == name:
                    if 0 < len(value) <= MAX_REQUEST_ID and value.isascii() and value.decode("ascii").isprintable() \
                            and b" " not in value:
                        request_id = value.decode("ascii")
                    break
        if request_id is None:
            request_id = self.id_prefix + str(next(self.id_counter))
        state = scope.get("state")
        if state is None:
            scope["state"] = state = {}
        state["request_id"] = request_id
        return request_id

    def echo_field(self, request_id: str) -> tuple | None:
        """The response field that echoes a request id, or None when they are not echoed."""
        if not self.echo_request_id:
            return None
        return (self.request_id_header, request_id.encode("ascii"))

    def answers_readiness(self, path: str) -> bool:
        """While draining, the readiness path is the server's to answer (503), not the app's."""
        return self.draining and path == self.readiness_path

    def flush_held(self) -> None:
        """Runs once per turn of the event loop in which reads wrote something, after every read of the
        turn was handled: each connection's responses go to its transport, one write each.

        Why not at the end of each read: a load generator, a proxy or any client with many connections
        waits in epoll for the next answer. Written as each read is handled, the answers arrive one by
        one, a few microseconds apart, and the client wakes (a cross-CPU wakeup, in a VM an exit to the
        hypervisor) for each, handles one and sleeps again. Written back to back, the first wakes it and
        the rest are there when it looks. Measured under wrk (plaintext keep-alive, 64 connections): its
        context switches fell from 0.09-0.22 to 0.01-0.02 per request and the server's requests per
        second rose 9.6%, with the same one read and one write per request (docs/architecture.md).
        The cost: one more epoll_pwait per busy turn, and a read's responses wait for the other reads of
        its turn."""
        held = self.held_connections
        self.held_connections = []
        for conn in held:
            conn.output_held = False
            try:
                conn.flush_batch()
            except Exception:  # asyncio's and uvloop's transports do not raise here; one that did must not
                # keep the other connections' responses back
                logger.exception("writing to %s failed", conn._peer())
                conn.transport.abort()


class Connection(HTTP1Sink):
    """A connection over an asyncio transport, as the ASGI cycles' sink (asgicy.asgi.sink), framing responses
    as HTTP/1.1 (asgicy.asgi.http1): writes with backpressure, files through sendfile(2), the Date/Server lines.

    An asyncio protocol by its methods (asyncio and uvloop call them by name); not derived from
    asyncio.Protocol so that Cython can compile it to an extension type."""

    def __init__(self, state) -> None:
        self.server_state = state  # the server's ServerState, shared by every connection
        self.config = state.config
        self.loop = state.loop
        self.transport = None
        self.writev = True  # transport.writelines may be used (writelines_pauses): set with the transport
        self.client = None
        self.server = None
        self.scheme = "http"
        self.tls = None  # the ASGI `tls` extension dict on a TLS connection
        self.write_paused = False
        self.drain_waiters: list = []
        self.reading_paused = False
        self.paused_since = 0.0
        self.closing = False  # graceful shutdown: finish what is in progress, then close
        self.closed = False
        # While a read is handled (``collecting``: apps run eagerly inside it) writes are collected in
        # ``batch`` and handed to the transport as one, so sixteen pipelined responses cost one send(2),
        # not sixteen, and they go at the end of the loop's turn (``output_held``: ServerState.flush_held). A write
        # with neither (an app running in a task) goes straight through.
        self.batch: list = []
        self.batch_size = 0
        self.collecting = False
        self.output_held = False

    def eof_received(self):
        # asyncio.Protocol's answer, which this class no longer inherits: None lets the transport close.
        return None

    # -- asyncio flow control -----------------------------------------------------------------------

    def pause_writing(self) -> None:
        self.write_paused = True
        self.paused_since = self.server_state.clock

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_drain_waiters()

    def _wake_drain_waiters(self) -> None:
        waiters, self.drain_waiters = self.drain_waiters, []
        for waiter in waiters:
            _set_done(waiter)

    # -- the sink contract (asgicy.asgi.sink.ResponseSink), bytes side (asgicy.asgi.http1.HTTP1Sink) ------

    def create_future(self):
        return self.loop.create_future()

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        if not self.collecting and not self.output_held:
            self.transport.write(data)
            return
        batch = self.batch
        batch.append(data)
        self.batch_size += len(data)
        if self.batch_size >= BATCH_LIMIT:
            self.flush_batch()

    def write_two(self, first: bytes, second: bytes) -> None:
        """Writes ``first`` then ``second`` (a response head and a large body) without joining them."""
        if self.closed:
            return
        if not self.collecting and not self.output_held:
            self._gather((first, second))
            return
        batch = self.batch
        batch.append(first)
        batch.append(second)
        self.batch_size += len(first) + len(second)
        if self.batch_size >= BATCH_LIMIT:
            self.flush_batch()

    def _gather(self, pieces) -> None:
        """Hands several pieces to the transport as they are: one writev(2) where the transport's
        writelines applies flow control (writelines_pauses), otherwise one write each."""
        if self.writev:
            self.transport.writelines(pieces)
        else:
            for piece in pieces:
                self.transport.write(piece)

    def end_collecting(self) -> None:
        """The end of a read (or of a callback that collects like one): what it wrote is held for the end
        of the loop's turn (ServerState.flush_held), the connection listed there once."""
        self.collecting = False
        if self.batch and not self.output_held:  # (closed meanwhile, flush_batch drops it)
            self.output_held = True
            held = self.server_state.held_connections
            held.append(self)
            if len(held) == 1:
                self.loop.call_soon(self.server_state.flush_held)

    def flush_batch(self) -> None:
        """Hands what was collected to the transport (which may then pause writing: see drain)."""
        batch = self.batch
        if batch:
            try:
                if not self.closed:
                    if len(batch) == 1:
                        self.transport.write(batch[0])
                    elif self.batch_size >= WRITEV_SIZE:
                        self._gather(batch)  # large pieces: not copied into one
                    else:
                        self.transport.write(b"".join(batch))
            finally:
                batch.clear()
                self.batch_size = 0

    async def drain(self) -> None:
        self.flush_batch()
        if self.write_paused and not self.closed:
            waiter = self.loop.create_future()
            self.drain_waiters.append(waiter)
            await waiter

    def open_file(self, path: str) -> int:
        # Non-blocking: opening a FIFO must not wait for a writer (file_size then refuses it).
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)

    def close_file(self, fd: int) -> None:
        os.close(fd)

    def file_size(self, fd: int) -> int:
        info = os.fstat(fd)
        return info.st_size if stat.S_ISREG(info.st_mode) else -1

    def file_position(self, fd: int) -> int:
        return os.lseek(fd, 0, os.SEEK_CUR)

    def move_file_position(self, fd: int, position: int) -> None:
        os.lseek(fd, position, os.SEEK_SET)

    async def send_file(self, fd: int, offset: int, count: int) -> int:
        """Sends ``count`` bytes of file ``fd`` from ``offset`` after what was written before; returns how
        many went out (fewer only if the file ended early). Raises ClientDisconnected if the client left.

        The kernel's sendfile(2) copies the file to the socket without passing it through Python. asyncio's
        ``loop.sendfile`` does that for its own transports but uvloop does not implement it, so this does it
        for both: flush the transport's buffer, then call ``os.sendfile`` on the socket, and when the socket
        is full wait for it to become writable through a duplicate descriptor (a separate registration, so
        the transport's own one is left alone).
        """
        self.flush_batch()  # what was written before the file goes before it
        transport = self.transport
        sock = None if self.closed else transport.get_extra_info("socket")
        if sock is None or transport.get_extra_info("sslcontext") is not None:
            return await self._copy_file(fd, offset, count)
        await self._flush()
        out = sock.fileno()
        sent = 0
        while sent < count:
            if self.closed:
                raise ClientDisconnected("the client disconnected")
            try:
                n = os.sendfile(out, fd, offset + sent, min(count - sent, 1 << 30))
            except BlockingIOError:
                await self._writable(out)
                continue
            except OSError as exc:  # EPIPE, ECONNRESET: the client is gone
                self._close()
                raise ClientDisconnected(f"the client disconnected ({exc.strerror})") from None
            if n == 0:
                break  # the end of the file came first
            sent += n
        return sent

    async def _copy_file(self, fd: int, offset: int, count: int) -> int:
        """sendfile's fallback: read and write a chunk at a time, with backpressure (never the whole file)."""
        sent = 0
        while sent < count:
            if self.closed:
                raise ClientDisconnected("the client disconnected")
            chunk = os.pread(fd, min(count - sent, FILE_COPY_CHUNK), offset + sent)
            if not chunk:
                break
            self.transport.write(chunk)
            sent += len(chunk)
            await self.drain()
        return sent

    async def _flush(self) -> None:
        """Waits until the transport has handed everything it buffered to the kernel."""
        transport = self.transport
        if transport.get_write_buffer_size():
            # With both limits at 0 the transport pauses us now and resumes us exactly when it is empty.
            low, high = transport.get_write_buffer_limits()
            transport.set_write_buffer_limits(0, 0)
            try:
                await self.drain()
            finally:
                if not self.closed:
                    transport.set_write_buffer_limits(high, low)

    async def _writable(self, out: int) -> None:
        waiter = self.loop.create_future()
        self.drain_waiters.append(waiter)  # connection_lost wakes it too
        duplicate = os.dup(out)
        try:
            self.loop.add_writer(duplicate, _set_done, waiter)
            try:
                await waiter
            finally:
                self.loop.remove_writer(duplicate)
        finally:
            os.close(duplicate)

    def default_headers(self, has_date: bool, has_server: bool) -> bytes:
        state = self.server_state
        if has_date:
            return b"" if has_server else state.server_header
        return state.date_header if has_server else state.date_and_server_header

    # What a cycle tells its connection (response_complete, abort_response, app_finished, body_consumed)
    # means something different to each protocol: HTTPProtocol and WebSocketProtocol implement them.

    # -- closing and reading ------------------------------------------------------------------------

    def _close(self) -> None:
        if not self.closed:
            self.flush_batch()
            self.closed = True
            self.transport.close()

    def send_stalled(self, now: float) -> bool:
        """Whether the client has read nothing for --timeout-send while the transport's buffer was full."""
        timeout = self.config.timeout_send
        return bool(timeout) and self.write_paused and not self.closed and now - self.paused_since >= timeout

    def _pause_reading(self) -> None:
        if not self.reading_paused and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "unix socket"


def _set_done(waiter) -> None:
    if not waiter.done():
        waiter.set_result(None)
