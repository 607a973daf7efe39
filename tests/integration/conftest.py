import asyncio

import uvloop


def pytest_asyncio_loop_factories(config, item):
    """Every integration test runs on asyncio's loop and on uvloop: their transports differ."""
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
