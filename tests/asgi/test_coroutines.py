"""The coroutine helpers: the C extension and its pure-Python twin, one test class run against both."""

from __future__ import annotations

import contextvars
import importlib

import pytest

from asgicy.server import coroutines

VAR: contextvars.ContextVar = contextvars.ContextVar("var", default="outside")


def _extension():
    try:
        return importlib.import_module("asgicy.server._coroutines")
    except ImportError:
        return None


IMPLEMENTATIONS = [pytest.param(coroutines, id="python"),
                   pytest.param(_extension(), id="cython", marks=pytest.mark.skipif(
                       _extension() is None, reason="the extension is not built (tests/test_build.py fails then)"))]


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request):
    return request.param


class Yielding:
    def __await__(self):
        return (yield "pending")


class TestCoroutineHelpers:
    def test_the_implementation_says_what_it_is(self, impl):
        assert impl.IMPLEMENTATION == ("python" if impl is coroutines else "cython")
        assert impl.RETURNED is coroutines.RETURNED  # one sentinel, whichever steps the coroutine

    def test_step_returns_what_a_suspending_coroutine_yielded(self, impl):
        async def suspends():
            await Yielding()

        coro = suspends()
        assert impl.step(coro, contextvars.copy_context()) == "pending"
        coro.close()

    def test_step_returns_RETURNED_for_a_coroutine_that_returned(self, impl):
        async def returns():
            return None

        assert impl.step(returns(), contextvars.copy_context()) is impl.RETURNED

    def test_a_yielded_None_is_not_a_return(self, impl):
        class Bare:
            def __await__(self):
                yield None

        async def bare():
            await Bare()

        coro = bare()
        assert impl.step(coro, contextvars.copy_context()) is None
        assert impl.step(coro, contextvars.copy_context()) is impl.RETURNED

    def test_step_raises_what_the_coroutine_raised(self, impl):
        async def fails():
            raise LookupError("inside")

        with pytest.raises(LookupError, match="inside"):
            impl.step(fails(), contextvars.copy_context())

    def test_step_runs_inside_the_context_and_leaves_it(self, impl):
        context = contextvars.copy_context()

        async def sets():
            VAR.set("inside")

        impl.step(sets(), context)
        assert context[VAR] == "inside" and VAR.get() == "outside"

    def test_call_in_calls_with_the_three_arguments_inside_the_context(self, impl):
        context = contextvars.copy_context()

        def app(scope, receive, send):
            VAR.set(scope)
            return (scope, receive, send)

        assert impl.call_in(context, app, "s", "r", "w") == ("s", "r", "w")
        assert context[VAR] == "s" and VAR.get() == "outside"

    def test_call_in_leaves_the_context_when_the_call_raises(self, impl):
        context = contextvars.copy_context()

        def app(scope, receive, send):
            raise KeyError(scope)

        with pytest.raises(KeyError):
            impl.call_in(context, app, "s", "r", "w")
        impl.call_in(context, lambda *a: None, 1, 2, 3)  # entering again works: it was left

    def test_copy_of_is_independent_of_the_original(self, impl):
        context = contextvars.copy_context()
        context.run(VAR.set, "a")
        copy = impl.copy_of(context)
        copy.run(VAR.set, "b")
        assert context[VAR] == "a" and copy[VAR] == "b"

    def test_throw_in_returns_what_a_coroutine_that_caught_it_yielded_next(self, impl):
        context = contextvars.copy_context()

        async def catches():
            try:
                await Yielding()
            except LookupError as exc:
                VAR.set(str(exc))
                await Yielding()

        coro = catches()
        impl.step(coro, context)
        assert impl.throw_in(coro, context, LookupError("thrown")) == "pending"
        assert context[VAR] == "thrown" and VAR.get() == "outside"  # inside the context, and left
        assert impl.step(coro, context) is impl.RETURNED

    def test_throw_in_returns_RETURNED_when_the_coroutine_returns_and_raises_what_it_raised(self, impl):
        async def swallows():
            try:
                await Yielding()
            except LookupError:
                return "done"

        coro = swallows()
        impl.step(coro, contextvars.copy_context())
        assert impl.throw_in(coro, contextvars.copy_context(), LookupError()) is impl.RETURNED

        async def lets_it_through():
            await Yielding()

        coro = lets_it_through()
        impl.step(coro, contextvars.copy_context())
        with pytest.raises(LookupError, match="through"):
            impl.throw_in(coro, contextvars.copy_context(), LookupError("through"))
