"""Apps run eagerly in the read that brought their request, on a pooled host task (server/eager.py).

What an app can observe must be what it would see in a task of its own: a current task, the same one after
it suspends (anyio's cancel scopes and sniffio depend on it), context variables of its own, and no waiting
behind an earlier app still running after its response. And what the eager run is for: the responses to
requests that arrived together leave together.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect

import anyio
import pytest
import sniffio

from asgicy.config import Config
from asgicy.server import eager
from asgicy.server.protocol import HTTPProtocol
from asgicy.server.server import ServerState

from .wire import RecordingTransport, Wire

REQUEST = b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n"


async def send_text(send, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def test_an_app_runs_in_one_task_before_and_after_it_suspends(serve):
    async def app(scope, receive, send):
        before = asyncio.current_task()
        await asyncio.sleep(0.01)
        after = asyncio.current_task()
        await send_text(send, f"{before is not None} {before is after}")

    async with serve(app) as running:
        wire = await Wire.open(running)
        for _ in range(3):  # the host task serves one request after another
            await wire.send(REQUEST % b"")
            assert (await wire.response()).body == b"True True"
        wire.writer.close()


async def test_anyio_cancel_scopes_threads_and_sniffio_work(serve):
    async def app(scope, receive, send):
        library = sniffio.current_async_library()  # asks for the current task, before any suspension
        with anyio.CancelScope():
            await anyio.sleep(0.01)  # entered eagerly, left on the host task
        with anyio.move_on_after(0.05) as timed_out:
            await anyio.sleep(10)
        answer = await anyio.to_thread.run_sync(lambda: 42)
        await send_text(send, f"{library} {timed_out.cancelled_caught} {answer}")

    async with serve(app) as running:
        wire = await Wire.open(running)
        await wire.send(REQUEST % b"")
        assert (await wire.response()).body == b"asyncio True 42"
        wire.writer.close()


async def test_send_and_receive_are_coroutine_functions_other_libraries_accept(serve):
    # Compiled, they are Cython coroutines: they must still pass for coroutines where libraries check
    # (anyio's start_soon, asyncio.create_task, inspect), or an app that hands them on would break.
    async def app(scope, receive, send):
        checks = inspect.iscoroutinefunction(send) and inspect.iscoroutinefunction(receive)
        request = await asyncio.create_task(receive())
        async with anyio.create_task_group() as group:
            group.start_soon(send, {"type": "http.response.start", "status": 200, "headers": []})
        group_done = True
        await asyncio.ensure_future(send({"type": "http.response.body", "body": f"{checks} {request['body']!r} "
                                                                               f"{group_done}".encode()}))

    async with serve(app) as running:
        wire = await Wire.open(running)
        await wire.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        assert (await wire.response()).body == b"True b'hi' True"
        wire.writer.close()


async def test_context_variables_stay_with_their_request(serve):
    request_path = contextvars.ContextVar("request_path", default="unset")

    async def app(scope, receive, send):
        seen = request_path.get()
        request_path.set(scope["path"])
        if scope["path"] == "/wait":
            await asyncio.sleep(0.01)  # the rest runs on the host task, in the same context
        await send_text(send, f"{seen} {request_path.get()}")

    async with serve(app) as running:
        wire = await Wire.open(running)
        await wire.send(REQUEST % b"first" + REQUEST % b"wait" + REQUEST % b"last")
        bodies = [(await wire.response()).body for _ in range(3)]
        wire.writer.close()
    assert bodies == [b"unset /first", b"unset /wait", b"unset /last"]


async def test_an_app_still_running_after_its_response_does_not_hold_up_the_next_request(serve):
    second_served = asyncio.Event()
    tail_saw_second = []

    async def app(scope, receive, send):
        await send_text(send, scope["path"])
        if scope["path"] == "/first":
            # Still running on its host after its response: the next request runs on another host.
            await asyncio.wait_for(second_served.wait(), 5)
            tail_saw_second.append(True)
        else:
            second_served.set()

    async with serve(app) as running:
        wire = await Wire.open(running)
        await wire.send(REQUEST % b"first")
        assert (await wire.response()).body == b"/first"
        await wire.send(REQUEST % b"second")
        assert (await wire.response()).body == b"/second"
        wire.writer.close()
        await asyncio.sleep(0.05)
    assert tail_saw_second == [True]


async def test_an_app_raising_cancelled_error_at_once_gets_a_500_and_the_server_goes_on(serve, error_log):
    async def app(scope, receive, send):
        if scope["path"] == "/cancel":
            raise asyncio.CancelledError()
        await send_text(send, "fine")

    async with serve(app) as running:
        wire = await Wire.open(running)
        await wire.send(REQUEST % b"cancel")
        assert (await wire.response()).status == 500
        wire = await Wire.open(running)
        await wire.send(REQUEST % b"next")
        assert (await wire.response()).body == b"fine"
        wire.writer.close()


@pytest.mark.parametrize("suspends", [False, True])
async def test_pipelined_responses_leave_in_one_write(suspends):
    async def app(scope, receive, send):
        if suspends:
            await asyncio.sleep(0)
        await send_text(send, scope["path"])

    loop = asyncio.get_running_loop()
    state = ServerState(Config(app=app, access_log=False, lifespan="off"), app, loop)
    state.lifespan_state = {}
    protocol = HTTPProtocol(state)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    requests = b"".join(REQUEST % b"%02d" % n for n in range(16))
    loop.call_soon(protocol.data_received, requests)  # as the event loop calls it: outside any task
    for _ in range(100):
        await asyncio.sleep(0)
    wire = b"".join(transport.writes)
    assert [wire.count(b"\r\n\r\n/%02d" % n) for n in range(16)] == [1] * 16
    assert wire.index(b"\r\n\r\n/02") < wire.index(b"\r\n\r\n/10")  # in order
    # Apps that finish at once: every response in the read's one write. Apps that suspend each finish on
    # the host task, in a loop step of their own, and their response goes out then.
    assert len(transport.writes) == (16 if suspends else 1)
    protocol.connection_lost(None)


async def test_a_read_handled_inside_a_task_gives_the_app_a_task_of_its_own():
    """Protocol callbacks normally run outside any task; if one does not, the host task cannot be made
    current over the running one, and the app runs in a task of its own instead."""
    async def app(scope, receive, send):
        await send_text(send, "served")

    state = ServerState(Config(app=app, access_log=False, lifespan="off"), app, asyncio.get_running_loop())
    state.lifespan_state = {}
    protocol = HTTPProtocol(state)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(REQUEST % b"")  # from this test's own task
    assert transport.writes == []  # not run eagerly
    for _ in range(10):
        await asyncio.sleep(0)
    assert b"".join(transport.writes).endswith(b"\r\n\r\nserved")
    protocol.connection_lost(None)


async def test_idle_keep_alive_connections_hold_no_task_and_hosts_are_reused(serve):
    async def app(scope, receive, send):
        if scope["path"] == "/wait":
            await asyncio.sleep(0.01)  # suspends: its host task resumes it
        await send_text(send, "ok")

    async with serve(app) as running:
        state = running.server.server_state
        wires = []
        for n in range(40):
            wire = await Wire.open(running)
            await wire.send(REQUEST % (b"wait" if n % 2 else b"now"))
            assert (await wire.response()).body == b"ok"
            wires.append(wire)
        # Forty connections idle after a request each: the only tasks are the pooled hosts (one was
        # enough, as the apps ran one at a time), not one per connection.
        hosts = [task for task in state.tasks if not task.done()]
        assert 1 <= len(hosts) <= eager.IDLE_HOSTS
        assert len(state.runner.idle) == len(hosts)
        for wire in wires:
            wire.writer.close()


async def test_a_host_cancelled_by_its_app_is_not_lent_to_the_next_one(serve):
    seen = []

    async def app(scope, receive, send):
        task = asyncio.current_task()
        seen.append((task, task.cancelling()))
        if scope["path"] == "/cancel-self":
            task.cancel()  # a stale cancellation: the app ends before it is delivered
        await send_text(send, "ok")

    async with serve(app) as running:
        wire = await Wire.open(running)
        # Pipelined, so the next app starts in the same read, before the cancelled host has ended.
        await wire.send(REQUEST % b"cancel-self" + REQUEST % b"next")
        assert (await wire.response()).body == b"ok"
        assert (await wire.response()).body == b"ok"
        wire.writer.close()
    (first, _), (second, cancelling) = seen
    assert second is not first and cancelling == 0
