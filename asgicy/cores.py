"""Which implementation of the protocol cores is in use: the one switch, read by asgicy.http and asgicy.ws.

Each core (the HTTP/1.1 parser, the WebSocket framer) has a Cython extension and a pure-Python reference
with the same API. The extension is used when it is built; ``ASGICY_PURE_PYTHON=1`` asks for the
references instead (to debug, or to compare). A leaf module: it imports nothing from the package, so both
cores can read it without reaching into each other.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

PURE_PYTHON_REQUESTED = os.environ.get("ASGICY_PURE_PYTHON", "") not in ("", "0")


def load(package: str, extension: str, reference: str) -> ModuleType:
    """The module to use for one core of ``package``: its ``extension`` unless the references were asked for
    or it is not built (then its ``reference``, which is correct, only slower)."""
    if not PURE_PYTHON_REQUESTED:
        try:
            return importlib.import_module(f"{package}.{extension}")
        except ImportError:
            pass
    return importlib.import_module(f"{package}.{reference}")
