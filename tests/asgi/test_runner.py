"""The app runner (asgicy.server.eager) in memory: an app runs eagerly over a cycle and its recording sink,
and one that suspends goes on in a host task that is the task it saw from the start."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from asgicy.server.eager import IDLE_HOSTS, AppRunner

from .conftest import HTTPExchange

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
REQUEST_ID: contextvars.ContextVar = contextvars.ContextVar("request_id", default=None)


async def run_from_callback(runner: AppRunner, app, cycle, sink=None) -> list:
    """``runner.run`` as the server calls it: from a callback of the loop (data_received), not inside a
    task (where it cannot enter a host task, and spawns one instead). Returns what the sink had recorded
    when ``run`` returned."""
    done = asyncio.get_running_loop().create_future()

    def callback() -> None:
        runner.run(app, cycle)
        done.set_result(list(cycle.conn.calls) + [("run returned",)])

    asyncio.get_running_loop().call_soon(callback)
    return await done


async def respond(send, text: bytes = b"ok") -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": text})


async def test_an_app_that_never_waits_is_done_when_run_returns():
    async def app(scope, receive, send):
        await receive()
        await respond(send)

    ex = HTTPExchange(GET)
    runner = AppRunner(asyncio.get_running_loop(), set())
    assert await run_from_callback(runner, app, ex.cycle) == [("response_complete",), ("app_finished",),
                                                               ("run returned",)]
    assert ex.sink.data.endswith(b"\r\n\r\nok")


async def test_run_inside_a_task_spawns_one_for_the_app():
    async def app(scope, receive, send):
        await respond(send)

    ex = HTTPExchange(GET)
    tasks: set = set()
    AppRunner(asyncio.get_running_loop(), tasks).run(app, ex.cycle)
    assert ex.sink.written == []  # not run here: in a task of its own, which the server's registry holds
    spawned = [task for task in tasks if "_to_the_end" in repr(task)]
    assert len(spawned) == 1
    await spawned[0]
    assert ex.sink.calls == [("response_complete",), ("app_finished",)]


async def test_an_app_that_suspends_resumes_in_the_task_it_saw_first():
    seen = []

    async def app(scope, receive, send):
        seen.append(asyncio.current_task())
        await asyncio.sleep(0)
        seen.append(asyncio.current_task())
        await respond(send)

    ex = HTTPExchange(GET)
    tasks: set = set()
    runner = AppRunner(asyncio.get_running_loop(), tasks)
    # Suspended when run returned (nothing answered yet): a host task took it over.
    assert await run_from_callback(runner, app, ex.cycle) == [("run returned",)]
    assert len(tasks) == 1
    for _ in range(5):
        await asyncio.sleep(0)
    assert ex.sink.calls[-1] == ("app_finished",)
    assert seen[0] is seen[1] and seen[0] is not None and seen[0] is not asyncio.current_task()


async def test_each_app_runs_in_its_own_copy_of_the_context():
    values = []

    async def app(scope, receive, send):
        values.append(REQUEST_ID.get())
        REQUEST_ID.set(scope["path"])
        await respond(send)

    runner = AppRunner(asyncio.get_running_loop(), set())
    for path in (b"/a", b"/b"):
        await run_from_callback(runner, app, HTTPExchange(b"GET %b HTTP/1.1\r\nHost: t\r\n\r\n" % path).cycle)
    assert values == [None, None] and REQUEST_ID.get() is None


async def test_an_app_that_raises_eagerly_is_reported_to_its_cycle():
    async def app(scope, receive, send):
        raise KeyError("x")

    ex = HTTPExchange(GET)
    await run_from_callback(AppRunner(asyncio.get_running_loop(), set()), app, ex.cycle)
    assert ex.sink.data.startswith(b"HTTP/1.1 500 ") and ex.sink.calls[-1] == ("app_finished",)


async def test_a_non_coroutine_awaitable_app_is_awaited():
    class Awaitable:
        def __init__(self, scope, receive, send):
            self.send = send

        def __await__(self):
            return respond(self.send, b"awaited").__await__()

    ex = HTTPExchange(GET)
    await run_from_callback(AppRunner(asyncio.get_running_loop(), set()), Awaitable, ex.cycle)
    assert ex.sink.data.endswith(b"awaited")


async def run_suspending(app, runner: AppRunner | None = None) -> tuple:
    """Runs ``app`` from a callback and waits until its cycle was told it finished (the host task stepped
    it to its end). Returns the exchange and the host tasks' set."""
    ex = HTTPExchange(GET)
    tasks: set = set()
    runner = runner or AppRunner(asyncio.get_running_loop(), tasks)
    assert await run_from_callback(runner, app, ex.cycle) == [("run returned",)]
    for _ in range(200):
        if ex.sink.calls and ex.sink.calls[-1] == ("app_finished",):
            break
        await asyncio.sleep(0.005)
    return ex, tasks


async def test_the_host_hands_a_failed_future_to_the_app_as_a_task_would():
    async def app(scope, receive, send):
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, future.set_exception, LookupError("from the future"))
        try:
            await future
        except LookupError as exc:
            await respond(send, str(exc).encode())

    ex, _ = await run_suspending(app)
    assert ex.sink.data.endswith(b"from the future")


async def test_a_future_done_before_the_host_wakes_gives_its_result():
    async def app(scope, receive, send):
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, b"early")  # before the host's first step
        await respond(send, await future)

    ex, _ = await run_suspending(app)
    assert ex.sink.data.endswith(b"early")


async def test_bare_yields_and_futures_in_turn_each_wait_their_turn():
    turns = []

    async def app(scope, receive, send):
        loop = asyncio.get_running_loop()
        loop.call_soon(turns.append, "callback")  # due in the next turn of the loop
        await asyncio.sleep(0)
        turns.append("after the first sleep(0)")
        for _ in range(3):
            await asyncio.sleep(0)
        await asyncio.sleep(0.001)
        await asyncio.sleep(0)
        await respond(send, b"%d" % len(turns))

    # A bare yield resumes the app a turn later, never in the turn it yielded in: with a new host (the
    # first app), and with a host parked in the pool (the second), which waking took that turn.
    runner = AppRunner(asyncio.get_running_loop(), set())
    for _ in range(2):
        turns.clear()
        ex, _ = await run_suspending(app, runner)
        assert turns == ["callback", "after the first sleep(0)"]
        assert ex.sink.data.endswith(b"2")
    assert len(runner.idle) == 1  # one host served both


async def test_cancelling_the_host_while_the_app_waits_throws_into_the_app():
    seen = []
    waiting = asyncio.Event()

    async def app(scope, receive, send):
        waiting.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    ex = HTTPExchange(GET)
    tasks: set = set()
    await run_from_callback(AppRunner(asyncio.get_running_loop(), tasks), app, ex.cycle)
    await waiting.wait()
    await asyncio.sleep(0)
    (host,) = tasks
    host.cancel()
    with pytest.raises(asyncio.CancelledError):
        await host
    assert seen == ["cancelled"] and ex.sink.calls[-1] == ("app_finished",)


async def test_a_bad_yield_is_thrown_back_into_the_app_as_a_task_does():
    class Bad:
        def __await__(self):
            yield "not a future"

    async def app(scope, receive, send):
        await asyncio.sleep(0)
        try:
            await Bad()
        except RuntimeError as exc:
            await respond(send, b"refused: " + str(exc).encode())

    ex, _ = await run_suspending(app)
    assert b"refused: " in ex.sink.data and b"bad yield" in ex.sink.data


async def test_apps_suspended_in_one_turn_may_await_the_same_future():
    # The first app's await flags the future as awaited; a task clears that flag the moment it is yielded,
    # and so must the runner, or the second app's await of it is refused ("await wasn't used with future").
    loop = asyncio.get_running_loop()
    shared = loop.create_future()

    async def app(scope, receive, send):
        await respond(send, await shared)

    runner = AppRunner(loop, set())
    exchanges = [HTTPExchange(GET), HTTPExchange(GET)]
    done = loop.create_future()

    def callback() -> None:
        for ex in exchanges:
            runner.run(app, ex.cycle)
        done.set_result(None)

    loop.call_soon(callback)
    await done
    shared.set_result(b"shared")
    for _ in range(10):
        await asyncio.sleep(0)
    assert [ex.sink.data.endswith(b"shared") for ex in exchanges] == [True, True]


async def test_the_pool_keeps_as_many_hosts_as_were_lent_at_once_until_a_tick_lends_fewer():
    loop = asyncio.get_running_loop()
    release = loop.create_future()

    async def app(scope, receive, send):
        await release
        await respond(send)

    runner = AppRunner(loop, set())
    exchanges = [HTTPExchange(GET) for _ in range(IDLE_HOSTS + 24)]
    started = loop.create_future()

    def callback() -> None:
        for ex in exchanges:
            runner.run(app, ex.cycle)
        started.set_result(None)

    loop.call_soon(callback)
    await started
    assert runner.lent == len(exchanges)
    release.set_result(None)
    for _ in range(10):
        await asyncio.sleep(0)
    assert all(ex.sink.calls[-1] == ("app_finished",) for ex in exchanges)
    # Every host came back (a steady load of this many waiting apps reuses them), none ended.
    assert runner.lent == 0 and len(runner.idle) == len(exchanges)
    runner.trim()  # this tick lent them all at once: all stay
    assert len(runner.idle) == len(exchanges)
    ending = [host.task for host in runner.idle[:24]]
    runner.trim()  # a tick that lent none: down to IDLE_HOSTS, the oldest ending
    assert len(runner.idle) == IDLE_HOSTS
    await asyncio.gather(*ending)
    assert all(task.done() for task in ending)
