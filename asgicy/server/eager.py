"""Running a request's app without a Task per request: eagerly, then on the connection's host task.

Most requests never wait: the app reads a body that is already here, sends a head and a body that fit in
the socket buffer, and returns. Making an ``asyncio.Task`` for each of them costs an allocation, a
``call_soon`` and a trip round the event loop before the app runs, and the response then goes out in a
later loop step than the request came in, one ``send(2)`` per response even when sixteen were pipelined.
So the protocol runs the app's coroutine at once, inside ``data_received`` (what Python 3.12's
``eager_task_factory`` does), and only if it suspends does a task take over the rest.

That task cannot be a new one: an app may have asked ``asyncio.current_task()`` before it suspended. anyio
(Starlette, FastAPI) keys its cancel scopes on it, sniffio uses it to tell that asyncio is running, and a
cancel scope entered in one task and left in another is an error. So each connection has one long-lived
*host* task. While an app runs eagerly the host is made the current task (``asyncio.tasks._enter_task``,
as 3.12's eager tasks do), and if the app suspends the host task resumes it (``Resumption``): the task the
app saw is the task it runs in. The app also runs in a copy of the context, like a task, so context
variables it sets stay with its request.

When the host is busy (an app still running after its response, while the next request starts) or the
caller is already inside a task, the app gets a task of its own, as it would without any of this.
"""

from __future__ import annotations

from asyncio import CancelledError
from contextvars import copy_context

try:  # the hooks Python's own eager tasks use (3.12); present since 3.7, private
    from asyncio.tasks import _enter_task, _leave_task
except ImportError:  # pragma: no cover - a Python without them runs every app in its own task
    _enter_task = _leave_task = None

_NOTHING = object()


class Resumption:
    """Awaiting this continues a coroutine that was started outside any task and suspended.

    The coroutine's first suspension already yielded ``pending`` (the future it waits on, or ``None`` for a
    bare yield such as ``sleep(0)``); the awaiting task must see that value first, exactly as if it had
    stepped the coroutine itself. After that every ``send``/``throw`` is relayed, inside the coroutine's
    own context. The awaiting task is what the coroutine now runs in (cancelling it cancels the app)."""

    __slots__ = ("coro", "context", "pending")

    def __init__(self, coro, context, pending) -> None:
        self.coro = coro
        self.context = context
        self.pending = pending

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        return self.send(None)

    def send(self, value):
        pending = self.pending
        if pending is not _NOTHING:
            self.pending = _NOTHING
            return pending
        return self.context.run(self.coro.send, value)

    def throw(self, *exc_info):
        self.pending = _NOTHING
        return self.context.run(self.coro.throw, *exc_info)

    def close(self) -> None:
        self.coro.close()


class AppRunner:
    """One connection's way of running app coroutines (see the module docstring)."""

    __slots__ = ("loop", "tasks", "base_context", "host", "inbox", "busy")

    def __init__(self, loop, tasks: set) -> None:
        self.loop = loop
        self.tasks = tasks  # the server's task registry: shutdown cancels what is in it
        # Each app starts from a copy of the context the connection was made in, never from whatever
        # context happens to be current (a callback scheduled by an earlier app carries that app's).
        self.base_context = copy_context()
        self.host = None
        self.inbox = None
        self.busy = False

    def run(self, coro) -> None:
        """Runs ``coro`` (which handles its own exceptions) until it finishes or first suspends."""
        if self.busy or _enter_task is None:
            self._spawn(coro)
            return
        loop = self.loop
        host = self.host
        if host is None or self.inbox is None:
            host = self._start_host()
        try:
            _enter_task(loop, host)
        except RuntimeError:  # called from inside a task: the app cannot run eagerly here
            self._spawn(coro)
            return
        context = self.base_context.copy()
        try:
            pending = context.run(coro.send, None)
        except StopIteration:
            return  # the usual case: done without waiting
        except CancelledError:
            return  # the app raised it itself; its cycle has already failed the response
        finally:
            _leave_task(loop, host)
        self.busy = True
        self.inbox.set_result(Resumption(coro, context, pending))

    def close(self) -> None:
        """The connection is gone: an idle host task ends (a busy one ends after its app)."""
        inbox = self.inbox
        if inbox is not None and not inbox.done():
            inbox.set_result(None)
        self.inbox = None

    def _start_host(self):
        self.inbox = self.loop.create_future()
        self.host = host = self.loop.create_task(self._serve(), context=self.base_context.copy())
        self.tasks.add(host)
        host.add_done_callback(self._host_done)
        return host

    def _host_done(self, host) -> None:
        self.tasks.discard(host)
        if self.host is host:  # cancelled (shutdown, or an app's cancel scope): the next app gets a new one
            self.host = None
            self.busy = False
            if self.inbox is not None and not self.inbox.done():
                self.inbox.cancel()
            self.inbox = None

    async def _serve(self) -> None:
        while True:
            inbox = self.inbox
            if inbox is None:
                return
            resumption = await inbox
            if resumption is None:
                return
            self.inbox = self.loop.create_future()
            try:
                await resumption
            finally:
                self.busy = False

    def _spawn(self, coro) -> None:
        task = self.loop.create_task(coro, context=self.base_context.copy())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
