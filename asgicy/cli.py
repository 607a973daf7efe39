"""The command line: ``asgicy [options] [module:app]`` and ``python -m asgicy``.

The argument parser is built from the option declarations in :mod:`asgicy.config`; nothing here
declares an option of its own but ``--version``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import typing

from ._version import __version__
from .config import Config, ConfigError, flag_of
from .importer import AppImportError, import_from_string

GROUP_TITLES = {"app": "application", "socket": "socket", "server": "server", "limits": "limits",
                "timeouts": "timeouts", "websocket": "WebSocket", "logging": "logging", "http": "HTTP"}


def _value_type(f: dataclasses.Field):
    hints = typing.get_type_hints(Config)
    hint = str(hints[f.name])
    if "float" in hint:
        return float
    if "int" in hint:
        return int
    return str


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asgicy", description="Serve an ASGI application over HTTP/1.1.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("app", nargs="?", default=None,
                        help=dataclasses.fields(Config)[0].metadata["help"])
    parser.add_argument("--version", action="store_true", help="Print the version and the parser in use.")
    groups = {}
    for f in Config.options():
        group_name = f.metadata["group"]
        if group_name not in groups:
            groups[group_name] = parser.add_argument_group(GROUP_TITLES.get(group_name, group_name))
        group = groups[group_name]
        default = f.default
        kwargs = {"dest": f.name, "help": f.metadata["help"], "default": default}
        if isinstance(default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = _value_type(f)
            if f.metadata.get("choices"):
                kwargs["choices"] = f.metadata["choices"]
            if f.metadata.get("metavar"):
                kwargs["metavar"] = f.metadata["metavar"]
        group.add_argument(flag_of(f), **kwargs)
    return parser


def version_text() -> str:
    from .server.server import describe_implementation
    return f"asgicy {__version__} ({describe_implementation()}; Python {sys.version.split()[0]})"


def fail(message: str) -> int:
    print(f"asgicy: error: {message}", file=sys.stderr)
    return 1


def main(argv: list | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    if args.pop("version"):
        print(version_text())
        return 0
    from .server.logs import configure_logging
    from .server.server import run_server
    configure_logging(args["log_level"], args["access_log"])
    target = args.pop("app")
    try:
        if target is None:
            from .demo import demo_app as app
            logging.getLogger("asgicy.error").info("No app given: serving the built-in demo app")
        else:
            app = import_from_string(target, args["app_dir"], args["factory"])
        config = Config(app=app, **args)
    except (AppImportError, ConfigError) as exc:
        return fail(str(exc))
    return run_server(config)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
