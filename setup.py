"""Builds the Cython extensions. The generated C is written to build/, never committed."""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension("asgicy.http._parser", ["asgicy/http/_parser.pyx"], extra_compile_args=["-O3"]),
    Extension("asgicy.ws._framer", ["asgicy/ws/_framer.pyx"], extra_compile_args=["-O3"]),
    # The ASGI http cycle is plain Python compiled as it stands (Cython's pure-Python mode, typed by
    # http.pxd): the same source runs uncompiled when the extension is not built.
    Extension("asgicy.asgi.events", ["asgicy/asgi/events.py"], extra_compile_args=["-O3"]),
    Extension("asgicy.asgi.http", ["asgicy/asgi/http.py"], extra_compile_args=["-O3"]),
    Extension("asgicy.server.connection", ["asgicy/server/connection.py"], extra_compile_args=["-O3"]),
    Extension("asgicy.server.protocol", ["asgicy/server/protocol.py"], extra_compile_args=["-O3"]),
    Extension("asgicy.server.eager", ["asgicy/server/eager.py"], extra_compile_args=["-O3"]),
]

setup(
    ext_modules=cythonize(
        extensions,
        build_dir="build/cython",
        compiler_directives={"language_level": "3", "embedsignature": True},
    ),
)
