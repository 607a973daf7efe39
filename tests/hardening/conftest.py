"""Hardening tests run servers in-process (the ``serve`` fixture) or as real processes (``launch``), on
asyncio's loop and on uvloop."""

from tests.production.conftest import Served, asgicy_args, launch, pytest_asyncio_loop_factories  # noqa: F401
