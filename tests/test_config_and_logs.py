import dataclasses

import pytest

from asgicy.cli import build_parser
from asgicy.config import Config, ConfigError, flag_of
from asgicy.server.logs import safe


def test_every_option_is_on_the_command_line_with_its_default():
    parser = build_parser()
    actions = {a.dest: a for a in parser._actions}
    for f in Config.options():
        assert f.name in actions and flag_of(f) in actions[f.name].option_strings
        assert actions[f.name].default == f.default
    defaults = vars(parser.parse_args([]))
    assert {k: v for k, v in defaults.items() if k not in ("app", "version")} == {
        f.name: f.default for f in Config.options()}


def test_boolean_options_have_no_forms():
    args = build_parser().parse_args(["--no-access-log", "--no-date-header"])
    assert args.access_log is False and args.date_header is False and args.server_header is True


@pytest.mark.parametrize("options, message", [
    ({"port": -1}, "port must be between"),
    ({"loop": "tokio"}, "loop must be one of auto, asyncio, uvloop"),
    ({"timeout_keep_alive": 0}, "timeout_keep_alive must be greater than 0"),
    ({"limit_request_body": -5}, "limit_request_body must not be negative"),
    ({"uds": "/tmp/x", "fd": 3}, "uds and fd cannot both be given"),
    ({"colour": "blue"}, "unknown option: colour"),
])
def test_bad_options_give_one_clear_error(options, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_kwargs(**options)


def test_every_option_has_help():
    for f in dataclasses.fields(Config):
        assert f.metadata["help"].endswith(".") or f.metadata["help"].endswith(")")


def test_safe_escapes_control_characters():
    assert safe("GET /\x1b[31mred\r\nINFO: fake") == "GET /\\x1b[31mred\\x0d\\x0aINFO: fake"
    assert safe(b"a\\b\x7f") == "a\\\\b\\x7f"
