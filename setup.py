"""Builds the Cython extensions. The generated C is written to build/, never committed.

The extensions are built without debug information, which would make up most of the wheel (4 MB against
about 1.6 MB), and on Linux without their symbol tables. ``ASGICY_BUILD_WITH_SYMBOLS=1`` keeps both, for
profiling with perf or callgrind:

    ASGICY_BUILD_WITH_SYMBOLS=1 python -m pip install -e .
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

if sys.platform == "win32":
    compile_args = ["/O2"]
    link_args = []
elif os.environ.get("ASGICY_BUILD_WITH_SYMBOLS", "") not in ("", "0"):
    compile_args = ["-O3", "-g"]
    link_args = []
else:
    # -g0 after Python's own CFLAGS (which carry -g) wins; on Linux the linker also drops the symbol table
    # (-s: an extension needs only its dynamic symbols, PyInit_*), an eighth of each extension.
    compile_args = ["-O3", "-g0"]
    link_args = ["-g0", "-s"] if sys.platform.startswith("linux") else ["-g0"]


def extension(name: str, source: str) -> Extension:
    return Extension(name, [source], extra_compile_args=compile_args, extra_link_args=link_args)


extensions = [
    # The cores' shared buffer and error latch, then the cores (http and ws derive from it).
    extension("asgicy._cores", "asgicy/_cores.pyx"),
    extension("asgicy.http._parser", "asgicy/http/_parser.pyx"),
    extension("asgicy.ws._framer", "asgicy/ws/_framer.pyx"),
    extension("asgicy.h2._hpack", "asgicy/h2/_hpack.pyx"),
    extension("asgicy.h2._core", "asgicy/h2/_core.pyx"),
    # The ASGI http cycle is plain Python compiled as it stands (Cython's pure-Python mode, typed by
    # http.pxd): the same source runs uncompiled when the extension is not built.
    extension("asgicy.asgi.events", "asgicy/asgi/events.py"),
    extension("asgicy.asgi.sink", "asgicy/asgi/sink.py"),
    extension("asgicy.asgi.http", "asgicy/asgi/http.py"),
    extension("asgicy.asgi.http1", "asgicy/asgi/http1.py"),
    extension("asgicy.server.connection", "asgicy/server/connection.py"),
    extension("asgicy.server.protocol", "asgicy/server/protocol.py"),
    extension("asgicy.server.eager", "asgicy/server/eager.py"),
    extension("asgicy.server.h2", "asgicy/server/h2.py"),
    # C-only helpers, with a pure-Python twin of the same API (coroutines.py).
    extension("asgicy.server._coroutines", "asgicy/server/_coroutines.pyx"),
]

setup(
    ext_modules=cythonize(
        extensions,
        build_dir="build/cython",
        compiler_directives={"language_level": "3", "embedsignature": True},
    ),
)
