"""Loading the app from a 'module:attribute' string, with one clear error for each way it can fail."""

from __future__ import annotations

import importlib
import sys


class AppImportError(Exception):
    """The app string could not be turned into an app; the message says what is wrong."""


def import_from_string(target: str, app_dir: str = ".", factory: bool = False):
    module_name, sep, attrs = target.partition(":")
    if not sep or not module_name or not attrs:
        raise AppImportError(f"the app must be given as 'module:attribute' (for example main:app), not {target!r}")
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise  # the module exists, but something it imports does not: show the real traceback
        raise AppImportError(f"could not import module {module_name!r} (looked in {app_dir!r} and sys.path)") from None
    obj = module
    try:
        for attr in attrs.split("."):
            obj = getattr(obj, attr)
    except AttributeError:
        raise AppImportError(f"module {module_name!r} has no attribute {attrs!r}") from None
    if factory:
        try:
            obj = obj()
        except TypeError as exc:
            raise AppImportError(f"calling the app factory {target!r} failed: {exc}") from None
    if not callable(obj):
        raise AppImportError(f"{target!r} is {type(obj).__name__}, not a callable ASGI app")
    return obj
