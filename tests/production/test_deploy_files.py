"""The deployment files the docs show (deploy/): each one's asgicy options are real and agree with the rest
of the file (probes, ports, grace period, resources), and systemd accepts the units."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import yaml

from asgicy.cli import build_parser
from asgicy.config import Config, environment_options, resolve

DEPLOY = Path(__file__).parents[2] / "deploy"


def config_from_args(args: list, environ: dict | None = None) -> Config:
    """The Config asgicy would run with, from a command line after ``python -m asgicy``."""
    assert args[:3] == ["python", "-m", "asgicy"] or args[1:3] == ["-m", "asgicy"], args
    return resolve(vars(build_parser().parse_args(args[3:])), environ=environ or {}, cwd=DEPLOY)


def test_kubernetes_manifest_agrees_with_its_options():
    deployment, service = yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    container, = pod["containers"]
    config = config_from_args(container["args"])
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": config.port, "metrics": config.metrics_port}
    assert config.host == "0.0.0.0" and config.metrics_host == "0.0.0.0"
    assert container["readinessProbe"]["httpGet"]["path"] == config.readiness_path
    # Kubernetes' SIGKILL must come after the delay and the graceful shutdown.
    assert pod["terminationGracePeriodSeconds"] > config.shutdown_delay + config.timeout_graceful_shutdown
    # One worker per CPU of the limit; the per-worker memory limit fits in the container's.
    limits = container["resources"]["limits"]
    assert config.workers == int(limits["cpu"])
    memory_mib = int(re.fullmatch(r"(\d+)Gi", limits["memory"])[1]) * 1024
    assert config.limit_max_memory * config.workers < memory_mib
    assert pod["enableServiceLinks"] is False
    assert deployment["metadata"]["name"] != "asgicy" and service["metadata"]["name"] != "asgicy"
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_dockerfile_command_and_environment_are_valid_options():
    text = (DEPLOY / "Dockerfile").read_text()
    command = re.search(r"^CMD (\[.*\])$", text, re.M)[1]
    environment = dict(re.findall(r"(ASGICY_\w+)=(\S+)", text))
    assert environment  # the image sets options through the environment
    config = config_from_args(yaml.safe_load(command), environ=environment)
    assert config.host == "0.0.0.0" and config.log_format == "json" and config.metrics_port == 9000
    assert environment_options(environment, []) == {"host": "0.0.0.0", "log_format": "json", "metrics_port": 9000,
                                                    "metrics_host": "0.0.0.0"}
    assert text.count("FROM ") == 2 and "--from=build" in text  # the wheel is built in a stage of its own


def read_unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string((DEPLOY / name).read_text())
    return unit


def test_systemd_units_parse_and_their_command_is_valid(tmp_path):
    service, socket_unit = read_unit("asgicy.service"), read_unit("asgicy.socket")
    assert service["Service"]["Type"] == "notify"  # asgicy sends READY=1 (tests/production/test_lifecycle.py)
    assert service["Unit"]["Requires"] == "asgicy.socket"
    command = shlex.split(service["Service"]["ExecStart"])
    config_from_args(["python", *command[1:]])
    assert socket_unit["Socket"]["ListenStream"]
    # systemd's own reading of them (its complaints go to stderr, with exit code 0 for some).
    units = []
    for name in ("asgicy.service", "asgicy.socket"):
        text = (DEPLOY / name).read_text().replace(command[0], shutil.which("python3") or "/usr/bin/python3")
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True,
                            timeout=60)
    complaints = [line for line in result.stderr.splitlines() if "asgicy" in line]
    assert result.returncode == 0 and complaints == [], result.stderr
