import asyncio

import pytest
import uvloop


@pytest.fixture(scope="session", params=["asyncio", "uvloop"])
def event_loop_policy(request):
    """Every integration test runs on asyncio's loop and on uvloop: their transports differ."""
    return uvloop.EventLoopPolicy() if request.param == "uvloop" else asyncio.DefaultEventLoopPolicy()
