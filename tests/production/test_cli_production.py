"""The production options from the command line, a config file and an env file, in real processes."""

from __future__ import annotations

import ssl
import subprocess
import sys

import httpx
import trustme

from .conftest import HERE, asgicy_args


def test_config_file_and_env_file_configure_workers(launch, tmp_path):
    (tmp_path / "asgicy.toml").write_text(f'app = "apps:greeting"\nworkers = 2\nport = 0\n'
                                          f'app-dir = "{HERE}"\nenv_file = "{tmp_path / "prod.env"}"\n')
    (tmp_path / "prod.env").write_text("APP_GREETING=hello from .env\nASGICY_ACCESS_LOG=false\n")
    server = launch([sys.executable, "-m", "asgicy", "--config", str(tmp_path / "asgicy.toml")], cwd=tmp_path)
    url = server.wait_serving()
    assert httpx.get(url).text == "hello from .env"
    server.wait_log("Started worker process", count=2)
    assert '"GET / HTTP/1.1"' not in server.log  # ASGICY_ACCESS_LOG=false from the env file


def test_pyproject_tool_table_and_environment(launch, tmp_path):
    (tmp_path / "pyproject.toml").write_text(f'[tool.asgicy]\napp = "apps:wsgi_hello"\napp_dir = "{HERE}"\n'
                                             'interface = "wsgi"\n')
    server = launch([sys.executable, "-m", "asgicy", "--port", "0"], cwd=tmp_path,
                    env={"ASGICY_WSGI_THREADS": "3"})
    url = server.wait_serving()
    assert httpx.get(url).text == "wsgi HTTP/1.1 http"


def test_one_clear_error_for_a_bad_config(tmp_path):
    (tmp_path / "asgicy.toml").write_text("wokers = 2\n")
    result = subprocess.run([sys.executable, "-m", "asgicy", "--config", "asgicy.toml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr == "asgicy: error: asgicy.toml: unknown option 'wokers' (did you mean workers?)\n"


def test_tls_with_workers(launch, tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    server = launch(asgicy_args("apps:app", "--workers", "2", "--ssl-certfile", str(tmp_path / "cert.pem"),
                                "--ssl-keyfile", str(tmp_path / "key.pem")))
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    url = server.wait_serving(verify=context)
    assert url.startswith("https://")
    assert httpx.get(url + "/scope", verify=context).text.endswith("https tls=0x0304")


def test_workers_need_an_import_string():
    code = ("import asgicy\n"
            "async def app(scope, receive, send): pass\n"
            "raise SystemExit(asgicy.run(app, workers=2, port=0))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "workers, reload and limit_max_memory need the app as an import string" in result.stderr
