import dataclasses

import pytest

from asgicy.cli import build_parser
from asgicy.config import Config, ConfigError, flag_of, resolve
from asgicy.server.logs import AccessFormat, safe


def test_every_option_is_on_the_command_line_and_its_help_shows_the_default():
    parser = build_parser()
    actions = {a.dest: a for a in parser._actions}
    for f in Config.options():
        assert f.name in actions and flag_of(f) in actions[f.name].option_strings
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if isinstance(default, bool):
            shown = "on" if default else "off"
        else:
            shown = "none" if default in (None, []) else default
        assert f"(default: {shown})" in actions[f.name].help
    # Flags not given stay out of the namespace, so they cannot override the environment or config file.
    assert vars(parser.parse_args([])) == {}
    assert resolve({}, environ={}, cwd="/nonexistent") == Config()


def test_command_line_values_are_converted_like_the_environment():
    args = vars(build_parser().parse_args(["--port", "9001", "--limit-request-body", "none", "--reload-dir", "a",
                                            "--reload-dir", "b", "--ssl-cert-reqs", "2", "--timeout-keep-alive",
                                            "2.5", "--reload-include", "*.{html,txt}"]))
    assert args == {"port": 9001, "limit_request_body": None, "reload_dirs": ["a", "b"], "ssl_cert_reqs": 2,
                    "timeout_keep_alive": 2.5, "reload_includes": ["*.{html,txt}"]}


def test_boolean_options_have_no_forms():
    args = vars(build_parser().parse_args(["--no-access-log", "--no-date-header", "--reload"]))
    assert args == {"access_log": False, "date_header": False, "reload": True}


@pytest.mark.parametrize("options, message", [
    ({"port": -1}, "port must be between"),
    ({"loop": "tokio"}, "loop must be one of auto, asyncio, uvloop"),
    ({"timeout_keep_alive": 0}, "timeout_keep_alive must be greater than 0"),
    ({"limit_request_body": -5}, "limit_request_body must not be negative"),
    ({"uds": "/tmp/x", "fd": 3}, "uds and fd cannot both be given"),
    ({"colour": "blue"}, "unknown option: colour"),
    ({"prot": 80}, r"unknown option: prot \(did you mean port\?\)"),
    ({"port": "80"}, "port must be an integer; got '80'"),
    ({"access_log": "yes"}, "access_log must be true or false"),
    ({"timeout_keep_alive": float("nan")}, "timeout_keep_alive must be a number"),
    ({"reload_dirs": "src"}, "reload_dirs must be a list of text"),
    ({"workers": 0}, "workers must be greater than 0"),
    ({"workers": 2, "reload": True}, "reload and workers > 1 cannot be combined"),
    ({"limit_max_requests": 0}, "limit_max_requests must be at least 1"),
    ({"ssl_keyfile": "k.pem"}, "ssl_keyfile needs ssl_certfile"),
    ({"ssl_certfile": "c.pem", "ssl_cert_reqs": 2}, "ssl_cert_reqs needs ssl_ca_certs"),
    ({"ssl_cert_reqs": 3}, "ssl_cert_reqs must be one of 0, 1, 2"),
    ({"forwarded_allow_ips": "10.0.0.0/8, proxy.local"}, "'proxy.local' is not an address, a network"),
    ({"access_log_format": "%(h)s %(nope)s"}, r"unknown atom %\(nope\)s"),
    ({"access_log_format": "100% %(s)s"}, "a lone '%' at 3"),
    ({"log_format": "xml"}, "log_format must be one of text, json"),
    ({"log_config": "/no/such/logging.yaml"}, "log_config file '/no/such/logging.yaml' does not exist"),
    ({"request_id_response": True}, "request_id_response needs request_id"),
    ({"request_id": True, "request_id_header": "x request id"}, "request_id_header must be a header name"),
    ({"readiness_path": "ready"}, "readiness_path must start with '/'"),
    ({"shutdown_delay": -1}, "shutdown_delay must not be negative"),
    ({"limit_max_memory": 0}, r"limit_max_memory must be at least 1 \(MiB\)"),
    ({"limit_max_memory": 100, "reload": True}, "limit_max_memory and reload cannot be combined"),
    ({"metrics_port": 8000}, "metrics_port and port are both 8000"),
    ({"metrics_port": 70000}, "metrics_port must be between 0 and 65535"),
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


# -- where values come from ------------------------------------------------------------------------------

def test_environment_variables_set_options():
    environ = {"ASGICY_PORT": "9002", "ASGICY_PROXY_HEADERS": "off", "ASGICY_RELOAD_EXCLUDES": "*.tmp, build/*",
               "ASGICY_LIMIT_CONCURRENCY": "none", "ASGICY_TIMEOUT_KEEP_ALIVE": "1.5", "WEB_CONCURRENCY": "3",
               "FORWARDED_ALLOW_IPS": "*", "ASGICY_PURE_PYTHON": "1", "ASGICY_TEST_SOAK_SECONDS": "5",
               "UNRELATED": "x"}
    config = resolve({}, environ=environ, cwd="/nonexistent")
    assert (config.port, config.proxy_headers, config.reload_excludes, config.limit_concurrency,
            config.timeout_keep_alive, config.workers, config.forwarded_allow_ips) == (
        9002, False, ["*.tmp", "build/*"], None, 1.5, 3, "*")


@pytest.mark.parametrize("environ, message", [
    ({"ASGICY_PORT": "eighty"}, "ASGICY_PORT: port must be an integer; got 'eighty'"),
    ({"ASGICY_PORT": "tcp://10.0.0.1"}, "ASGICY_PORT: port must be an integer; got 'tcp://10.0.0.1'"),
    ({"ASGICY_ACCESS_LOG": "maybe"}, "ASGICY_ACCESS_LOG: access_log must be true or false"),
    ({"WEB_CONCURRENCY": "lots"}, "WEB_CONCURRENCY: workers must be an integer"),
])
def test_bad_environment_is_one_clear_error(environ, message):
    with pytest.raises(ConfigError, match=message):
        resolve({}, environ=environ, cwd="/nonexistent")


# What Kubernetes puts into every pod of a namespace that has a Service named "asgicy" (service links).
KUBERNETES_SERVICE_LINKS = {
    "ASGICY_SERVICE_HOST": "10.0.0.1", "ASGICY_SERVICE_PORT": "8000", "ASGICY_SERVICE_PORT_HTTP": "8000",
    "ASGICY_PORT": "tcp://10.0.0.1:8000", "ASGICY_PORT_8000_TCP": "tcp://10.0.0.1:8000",
    "ASGICY_PORT_8000_TCP_PROTO": "tcp", "ASGICY_PORT_8000_TCP_PORT": "8000", "ASGICY_PORT_8000_TCP_ADDR": "10.0.0.1",
}


def test_kubernetes_service_links_are_ignored_with_warnings():
    config = resolve({}, environ={**KUBERNETES_SERVICE_LINKS, "ASGICY_WORKERS": "2"}, cwd="/nonexistent")
    assert (config.port, config.host, config.workers) == (8000, "127.0.0.1", 2)
    link, unknown = config.warnings
    assert link.startswith("ignoring ASGICY_PORT=tcp://10.0.0.1:8000: a service link") and "enableServiceLinks" in link
    names = [name for name in KUBERNETES_SERVICE_LINKS if name != "ASGICY_PORT"]
    assert unknown.startswith("ignoring environment variables that name no option: ")
    assert all(name in unknown for name in names) and "ASGICY_WORKERS" not in unknown


def test_a_service_link_in_host_is_ignored_too_and_a_real_port_is_kept():
    config = resolve({}, environ={"ASGICY_HOST": "tcp://10.0.0.1:8000", "ASGICY_PORT": "9005"}, cwd="/nonexistent")
    assert (config.host, config.port) == ("127.0.0.1", 9005)
    assert config.warnings == ("ignoring ASGICY_HOST=tcp://10.0.0.1:8000: a service link that Kubernetes sets for "
                               "a Service named 'asgicy', not an option (set ASGICY_HOST yourself to override it, "
                               "or enableServiceLinks: false in the pod spec)",)


def test_a_misspelt_variable_is_one_warning_that_suggests_the_option():
    config = resolve({}, environ={"ASGICY_PROT": "1", "ASGICY_WOKRERS": "2"}, cwd="/nonexistent")
    assert config.port == 8000 and config.workers == 1
    assert config.warnings == ("ignoring environment variables that name no option: ASGICY_PROT (did you mean "
                               "ASGICY_PORT?), ASGICY_WOKRERS (did you mean ASGICY_WORKERS?)",)
    assert resolve({}, environ={"ASGICY_PORT": "9006"}, cwd="/nonexistent").warnings == ()


def test_config_file_then_environment_then_explicit(tmp_path):
    path = tmp_path / "asgicy.toml"
    path.write_text('app = "main:app"\nport = 9003\nhost = "::1"\nreload-dirs = ["src"]\n'
                    'limit_request_body = "none"\nworkers = 2\n')
    config = resolve({"config_file": str(path)}, environ={"ASGICY_HOST": "0.0.0.0"})
    assert (config.app, config.port, config.host, config.reload_dirs, config.limit_request_body,
            config.workers) == ("main:app", 9003, "0.0.0.0", ["src"], None, 2)
    assert resolve({"config_file": str(path), "host": "127.0.0.2"}, environ={"ASGICY_HOST": "0.0.0.0"}).host \
        == "127.0.0.2"
    assert resolve({}, environ={"ASGICY_CONFIG_FILE": str(path)}).port == 9003


def test_pyproject_tool_table_is_read_from_the_working_directory(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.asgicy]\nport = 9004\n')
    assert resolve({}, environ={}, cwd=tmp_path).port == 9004
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert resolve({}, environ={}, cwd=tmp_path).port == 8000


@pytest.mark.parametrize("text, message", [
    ("prot = 80\n", r"asgicy.toml: unknown option 'prot' \(did you mean port\?\)"),
    ("port = '80x'\n", "port must be an integer; got '80x'"),
    ("access_log = 1\n", "asgicy.toml: access_log must be true or false; got 1"),
    ("port = [80\n", "is not valid TOML"),
    ("config_file = 'other.toml'\n", "unknown option 'config_file'"),
])
def test_bad_config_file_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "asgicy.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        resolve({"config_file": str(path)}, environ={})


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        resolve({"config_file": str(tmp_path / "nope.toml")}, environ={})


def test_env_file_feeds_the_environment_but_the_real_environment_wins(tmp_path):
    path = tmp_path / "prod.env"
    path.write_text("ASGICY_PORT=9005\nASGICY_HOST=0.0.0.0\nDATABASE_URL=postgres://db\n# a comment\n")
    environ = {"ASGICY_HOST": "127.0.0.3"}
    config = resolve({"env_file": str(path)}, environ=environ)
    assert (config.port, config.host, config.env_file) == (9005, "127.0.0.3", str(path))
    assert environ["DATABASE_URL"] == "postgres://db"  # the app sees it
    with pytest.raises(ConfigError, match="env file .* does not exist"):
        resolve({"env_file": str(tmp_path / "missing.env")}, environ={})


# -- the access log format -------------------------------------------------------------------------------

class _Request:
    method = b"GET"
    target = b"/items?page=2"
    http_version = "1.1"
    headers = [(b"host", b"example"), (b"user-agent", b"curl/8\x1b[31m"), (b"referer", b"http://r/")]


class _Cycle:
    request = _Request()
    scope = {"client": ["203.0.113.9", 51000]}
    status = 201
    response_size = 12
    response_headers = [(b"Content-Type", b"text/plain"), (b"x-id", b"7")]
    started = 0.0


def test_access_log_format_renders_gunicorn_atoms():
    line = AccessFormat('%(h)s "%(r)s" %(m)s %(U)s %(q)s %(H)s %(s)s %(B)s %(b)s %(f)s %(a)s '
                        '%({content-type}o)s %({X-ID}o)s %({missing}i)s 100%%').render(_Cycle())
    assert line == ('203.0.113.9:51000 "GET /items?page=2 HTTP/1.1" GET /items page=2 HTTP/1.1 201 12 12 '
                    'http://r/ curl/8\\x1b[31m text/plain 7 - 100%')


def test_access_log_durations_are_numbers():
    import time
    cycle = _Cycle()
    cycle.started = time.monotonic() - 0.25
    micros, millis, seconds = AccessFormat("%(D)s %(M)s %(L)s").render(cycle).split()
    assert 250_000 <= int(micros) < 5_000_000 and 250 <= int(millis) < 5000 and 0.25 <= float(seconds) < 5
