"""The command line: ``asgicy [options] [module:app]`` and ``python -m asgicy``.

The argument parser is built from the option declarations in :mod:`asgicy.config`; nothing here
declares an option of its own but ``--version``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from ._version import __version__
from .config import Config, flag_of, kind_of, parse_text, resolve
from .demo import DEMO_APP
from .errors import ConfigError
from .importer import AppImportError, import_from_string

GROUP_TITLES = {"app": "application", "socket": "socket", "server": "server", "limits": "limits",
                "timeouts": "timeouts", "websocket": "WebSocket", "logging": "logging", "http": "HTTP",
                "http2": "HTTP/2", "metrics": "metrics",
                "processes": "processes", "proxy": "proxies", "tls": "TLS", "config": "configuration"}


def _value_type(f: dataclasses.Field):
    """argparse's converter for an option: the same text rules as the environment ('none' for none)."""
    def convert(text: str):
        if kind_of(f)[0] is list:
            return text  # one item per flag (action="append"); commas belong to the item
        try:
            return parse_text(f, text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f.name + " ")) from None
    convert.__name__ = kind_of(f)[0].__name__  # argparse names the type in its error messages
    return convert


def _shown_default(f: dataclasses.Field) -> str:
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None or value == []:
        return "none"
    return str(value)


def build_parser() -> argparse.ArgumentParser:
    # Defaults are left out of the namespace (SUPPRESS) so that only the flags given on the command line
    # override the config file and the environment; the help shows the declared defaults.
    parser = argparse.ArgumentParser(
        prog="asgicy", description="Serve an ASGI (or WSGI) application over HTTP/1.1.",
        epilog="Every option can also be set as ASGICY_<OPTION> in the environment or in a TOML config "
               "file; the command line wins over both.", argument_default=argparse.SUPPRESS)
    parser.add_argument("app", nargs="?", help=dataclasses.fields(Config)[0].metadata["help"])
    parser.add_argument("--version", action="store_true",
                        help="Print the version, the parser and the event loop in use.")
    groups = {}
    for f in Config.options():
        group_name = f.metadata["group"]
        if group_name not in groups:
            groups[group_name] = parser.add_argument_group(GROUP_TITLES.get(group_name, group_name))
        group = groups[group_name]
        base = kind_of(f)[0]
        text = f"{f.metadata['help']} (default: {_shown_default(f)})"
        kwargs = {"dest": f.name, "help": text.replace("%", "%%")}
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = _value_type(f)
            if base is list:
                kwargs["action"] = "append"
            if f.metadata.get("choices"):
                kwargs["choices"] = f.metadata["choices"]
            if f.metadata.get("metavar"):
                kwargs["metavar"] = f.metadata["metavar"]
        group.add_argument(flag_of(f), **kwargs)
    return parser


def version_text() -> str:
    from .server.server import describe_implementation, describe_loop
    return f"asgicy {__version__} ({describe_implementation()}; {describe_loop()}; Python {sys.version.split()[0]})"


def fail(message: str) -> int:
    print(f"asgicy: error: {message}", file=sys.stderr)
    return 1


def main(argv: list | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    if args.pop("version", False):
        print(version_text())
        return 0
    try:
        config = resolve(args)
    except ConfigError as exc:
        return fail(str(exc))
    return serve(config)


def serve(config: Config) -> int:
    """Runs what ``config`` asks for: one server in this process, or a supervisor of worker processes."""
    from .server.logs import configure_logging
    from .server.server import run_server

    from .server.server import describe_bound
    from .server.systemd import Notifier, SystemdError, listen_sockets

    try:
        configure_logging(config.log_level, config.access_log, config.log_format, config.log_config)
    except ConfigError as exc:
        return fail(str(exc))
    log = logging.getLogger("asgicy.error")
    for warning in config.warnings:
        log.warning(warning)
    if config.app is None:
        log.info("No app given: serving the built-in demo app")
        config.app = DEMO_APP
    try:
        sockets = listen_sockets()  # systemd socket activation
    except SystemdError as exc:
        return fail(str(exc))
    if sockets:
        log.info("Serving on %d socket(s) passed by systemd (LISTEN_FDS); host, port, uds and fd are not used",
                 len(sockets))
        for line in describe_bound(sockets, config.is_ssl):
            log.info("%s", line)
    notifier = Notifier()
    if config.workers > 1 or config.reload or config.limit_max_memory is not None:
        if not isinstance(config.app, str):
            return fail("workers, reload and limit_max_memory need the app as an import string "
                        "('module:attribute'), since each worker process imports it anew")
        from .server.supervisor import Supervisor
        return Supervisor(config, sockets, notifier).run()
    try:
        if isinstance(config.app, str):
            config.app = import_from_string(config.app, config.app_dir, config.factory)
    except AppImportError as exc:
        return fail(str(exc))
    return run_server(config, sockets=sockets or None, notifier=notifier)



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
