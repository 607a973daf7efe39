"""Builds the Cython extensions. The generated C is written to build/, never committed."""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension("asgicy.http._parser", ["asgicy/http/_parser.pyx"], extra_compile_args=["-O3"]),
    Extension("asgicy.ws._framer", ["asgicy/ws/_framer.pyx"], extra_compile_args=["-O3"]),
]

setup(
    ext_modules=cythonize(
        extensions,
        build_dir="build/cython",
        compiler_directives={"language_level": "3", "embedsignature": True},
    ),
)
