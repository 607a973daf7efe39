from collections.abc import Callable, Coroutine
from contextvars import Context
from typing import Any

IMPLEMENTATION: str
RETURNED: object

def step(coro: Coroutine[Any, Any, Any], context: Context) -> Any: ...
def call_in(context: Context, function: Callable[..., Any], scope: Any, receive: Any, send: Any) -> Any: ...
def copy_of(context: Context) -> Context: ...
