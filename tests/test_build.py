"""The install builds what it should: the Cython cores and the compiled hot path of the server.

The server's hot-path modules are plain Python that also runs uncompiled, so a build that silently
skipped compiling them would pass every other test and only be slower. This test is what notices."""

from __future__ import annotations

import importlib
from importlib.machinery import EXTENSION_SUFFIXES

import pytest

COMPILED = ["asgicy.http._parser", "asgicy.ws._framer", "asgicy.asgi.events", "asgicy.asgi.http",
            "asgicy.server.connection", "asgicy.server.protocol", "asgicy.server.eager"]


@pytest.mark.parametrize("name", COMPILED)
def test_module_is_the_built_extension(name):
    module = importlib.import_module(name)
    assert module.__file__.endswith(tuple(EXTENSION_SUFFIXES)), f"{name} runs from {module.__file__}"


def test_the_cycle_and_the_protocol_are_extension_types():
    from asgicy.asgi.http import HTTPCycle
    from asgicy.server.protocol import HTTPProtocol

    # Extension types keep their attributes in C slots: an instance has no __dict__ to put others in.
    for cls in (HTTPCycle, HTTPProtocol):
        assert "__dict__" not in dir(cls), cls
