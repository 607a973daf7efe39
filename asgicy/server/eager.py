# cython: language_level=3, annotation_typing=False
"""Running a request's app without a Task per request: eagerly, then on a host task from a pool.

Most requests never wait: the app reads a body that is already here, sends a head and a body that fit in
the socket buffer, and returns. Making an ``asyncio.Task`` for each of them costs an allocation, a
``call_soon`` and a trip round the event loop before the app runs, and the response then goes out in a
later loop step than the request came in, one ``send(2)`` per response even when sixteen were pipelined.
So the protocol runs the app's coroutine at once, inside ``data_received`` (what Python 3.12's
``eager_task_factory`` does), and only if it suspends does a task take over the rest.

That task cannot be a new one: an app may have asked ``asyncio.current_task()`` before it suspended. anyio
(Starlette, FastAPI) keys its cancel scopes on it, sniffio uses it to tell that asyncio is running, and a
cancel scope entered in one task and left in another is an error. So the app runs eagerly with a *host*
task made current (``asyncio.tasks._enter_task``, as 3.12's eager tasks do), and if it suspends, that host
task steps it from then on (``AppRunner._serve``): the task the app saw is the task it runs in. The app also
runs in a copy of the server's context, like a task, so context variables it sets stay with its request.

The host steps the app's coroutine itself (``step``/``throw_in``, inside the app's context) rather than
awaiting it, since a task cannot switch contexts: between steps it awaits the future the app is waiting
on, so the task parks on that future exactly as if the app were its own coroutine, and a failure or a
cancellation it is woken with is thrown into the app, as a task would. A bare ``yield`` (``sleep(0)``)
at the app's first suspension needs no second turn when the host was parked: waking it took one.

Hosts are pooled per server, not kept per connection: an app that finished eagerly hands its host back at
once, one that suspended hands it back when it is done. The pool holds as many hosts as apps were suspended
at the same time lately: the server's clock calls ``trim`` every tick, which ends the idle hosts beyond the
most that were lent at once since the last tick (and beyond ``IDLE_HOSTS``). Under a steady load of N
waiting apps, N hosts are reused request after request (ending them and making new ones would cost a task
each); when the load goes, so do they; an idle keep-alive connection costs no task at all. A host that was
cancelled (its ``cancelling()`` count is not zero) is never reused: the next app must not inherit a
cancellation meant for another.
"""

from __future__ import annotations

from asyncio import CancelledError, Future
from contextvars import copy_context
from types import CoroutineType

try:  # the C implementation (compiled, eager.pxd cimports it: C calls); coroutines.py is its twin
    from ._coroutines import RETURNED, call_in, copy_of, step, throw_in
except ImportError:  # pragma: no cover - not built: the same functions in Python
    from .coroutines import RETURNED, call_in, copy_of, step, throw_in

try:  # the hooks Python's own eager tasks use (3.12); present since 3.7, private
    from asyncio.tasks import _enter_task, _leave_task
except ImportError:  # pragma: no cover - a Python without them runs every app in its own task
    _enter_task = _leave_task = None

# Idle hosts always kept for the next suspending apps (trim ends more than this, if a tick lent fewer).
IDLE_HOSTS = 16


def _call_app(app, cycle, context):
    """The app's coroutine for ``cycle``, called inside ``context``: what an app does before its first
    await runs where the rest of it will. An app that returns some other awaitable is awaited by a
    coroutine of ours, so what the runner steps is always a coroutine (and a non-awaitable fails there,
    as ``await`` would have it)."""
    coro = call_in(context, app, cycle.scope, cycle.receive, cycle.send)
    if type(coro) is not CoroutineType:
        coro = _awaiting(coro)
    return coro


async def _awaiting(awaitable):
    return await awaitable


async def _to_the_end(app, cycle) -> None:
    """Runs an app that cannot run eagerly in the current task (its own) and tells its cycle how it
    ended."""
    try:
        await app(cycle.scope, cycle.receive, cycle.send)
    except BaseException as exc:
        cycle.app_done(exc, None)
        if not isinstance(exc, Exception):
            raise  # cancelled (shutdown) or the interpreter is exiting: the task ends with it
    else:
        cycle.app_done(None, None)


def _claim(pending) -> bool:
    """Whether an app's coroutine yielded a future it awaits (the flag its ``await`` set), and the flag
    cleared, as a task checks and clears what its coroutine yields. Done the moment the app yields it:
    awaiting a future whose flag is set is refused, and another app may await the same future before the
    host runs (the host's own ``await`` sets it again)."""
    if isinstance(pending, Future) and pending._asyncio_future_blocking:
        pending._asyncio_future_blocking = False
        return True
    return False


class _Relay:
    """Awaiting this yields ``value`` to the task once: what an app yielded that is not a future it
    waits on (a bare ``yield`` after its first, or something a task refuses, which the task then throws
    back in, as it would into the app)."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __await__(self):
        return (yield self.value)


class HostTask:
    """A pooled task (``task``) that waits in ``inbox`` for a suspended app to take over (``coro``, its
    ``context`` and ``cycle``, what its first suspension yielded, ``pending``, and whether that is a future
    it waits on, ``waits``), runs it to the end, and waits again. ``inbox`` is set True for an app to run,
    False for the task to end.

    ``cancelling`` is the task's method of that name: a host that was asked to cancel (shutdown, or an
    app that cancelled the task it ran in) is not lent again. Idle, a host is always waiting on its inbox
    or not yet started, and either way a cancellation shows there first."""

    def __init__(self) -> None:
        self.task = None
        self.inbox = None
        self.cancelling = None
        self.coro = None
        self.context = None
        self.cycle = None
        self.pending = None
        self.waits = False


class AppRunner:
    """One server's way of running app coroutines (see the module docstring)."""

    def __init__(self, loop, tasks: set) -> None:
        self.loop = loop
        self.tasks = tasks  # the server's task registry: shutdown cancels what is in it
        # Each app starts from a copy of this context, never from whatever context happens to be current
        # (a callback scheduled by an earlier app carries that app's).
        self.base_context = copy_context()
        self.idle: list = []
        self.lent = 0  # hosts serving a suspended app now
        self.busiest = 0  # the most lent at once since the last trim

    def run(self, app, cycle) -> None:
        """Starts ``app`` for ``cycle`` and runs it until it returns or first suspends. However and wherever
        it ends, the cycle is told (``cycle.app_done``), inside the app's context."""
        if _enter_task is None:
            self._spawn(app, cycle)
            return
        loop = self.loop
        idle = self.idle
        # The host at the end of the pool is lent in place: an app that finishes eagerly (the usual case)
        # leaves it there, and only one that suspends takes it out.
        while idle:
            host = idle[-1]
            if not host.cancelling():
                break
            idle.pop()  # cancelled while idle (shutdown, or a stale reference): it is ending
        else:
            host = self._new_host()
            idle.append(host)
        task = host.task
        try:
            _enter_task(loop, task)
        except RuntimeError:  # called from inside a task: the app cannot run eagerly here
            self._spawn(app, cycle)
            return
        context = copy_of(self.base_context)
        coro = None
        failure = None
        try:
            coro = _call_app(app, cycle, context)
            pending = step(coro, context)
        except BaseException as exc:
            failure = exc
            pending = RETURNED
        finally:
            _leave_task(loop, task)
        if pending is RETURNED:
            if host.cancelling():
                self._take_out(host)  # cancelled by the app it ran: never lent again, it ends
            cycle.app_done(failure, context)
            if failure is not None and not isinstance(failure, (Exception, CancelledError)):
                raise failure  # KeyboardInterrupt, SystemExit: not the server's to swallow
            return
        self._take_out(host)  # the app's until it finishes: _release puts it back
        self.lent += 1
        if self.lent > self.busiest:
            self.busiest = self.lent
        host.coro = coro
        host.context = context
        host.cycle = cycle
        host.waits = _claim(pending)
        host.pending = pending
        host.inbox.set_result(True)

    def _take_out(self, host: HostTask) -> None:
        idle = self.idle
        if idle and idle[-1] is host:
            idle.pop()
        elif host in idle:
            idle.remove(host)

    def _release(self, host: HostTask) -> None:
        """Back to the pool after serving a suspended app (_serve has seen that it was not cancelled)."""
        self.idle.append(host)

    def trim(self) -> None:
        """Ends the idle hosts beyond the most that were lent at once since the last call (at least
        ``IDLE_HOSTS`` stay), oldest first: the server's clock calls it every tick."""
        keep = max(IDLE_HOSTS, self.busiest)
        self.busiest = self.lent
        idle = self.idle
        if len(idle) > keep:
            ending = idle[:len(idle) - keep]
            del idle[:len(idle) - keep]
            for host in ending:
                host.inbox.set_result(False)

    def _new_host(self) -> HostTask:
        host = HostTask()
        host.inbox = self.loop.create_future()
        host.task = task = self.loop.create_task(self._serve(host), context=self.base_context.copy())
        host.cancelling = task.cancelling
        self.tasks.add(task)
        task.add_done_callback(self._host_done)
        return host

    def _host_done(self, task) -> None:
        self.tasks.discard(task)
        self.idle[:] = [host for host in self.idle if host.task is not task]

    async def _serve(self, host: HostTask) -> None:
        while True:
            inbox = host.inbox
            # Parked: the wake-up (set_result) came after the app's first suspension, so it is a turn of
            # the loop later. A new host's first step was scheduled before the app ran: not parked.
            parked = not inbox.done()
            if not await inbox:
                return
            host.inbox = self.loop.create_future()
            coro = host.coro
            context = host.context
            cycle = host.cycle
            pending = host.pending
            waits = host.waits
            host.coro = host.context = host.cycle = host.pending = None
            failure = None
            try:
                if pending is None and parked:
                    pending = step(coro, context)  # a bare yield: the turn it asked for was this wake-up
                    waits = _claim(pending)
                while pending is not RETURNED:
                    try:
                        if waits:
                            await pending  # parks the task on it; its failure, or a cancellation, raises
                        else:
                            await _Relay(pending)
                    except BaseException as exc:
                        pending = throw_in(coro, context, exc)
                    else:
                        pending = step(coro, context)
                    waits = _claim(pending)
            except BaseException as exc:
                failure = exc
            self.lent -= 1
            cycle.app_done(failure, context)
            if failure is not None and not isinstance(failure, Exception):
                raise failure  # cancelled (shutdown) or the interpreter is exiting: the task ends with it
            if host.cancelling():
                return  # a cancellation the app swallowed: this task is not lent again
            self._release(host)

    def _spawn(self, app, cycle) -> None:
        # An app that cannot run eagerly: in a task of its own, called there, in the task's context.
        starting = _to_the_end(app, cycle)
        task = self.loop.create_task(starting, context=self.base_context.copy())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
