"""End to end behind a real nginx (the Debian package; .ci/run installs it): nginx on loopback as the
reverse proxy, asgicy with two workers on a unix socket behind it, HTTP and WebSocket, proxy headers
trusted from the unix-socket peer only."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time

import httpx
import pytest
import websockets

from .conftest import asgicy_args

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream asgicy {{ server unix:{sock}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://asgicy;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx(tmp_path):
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed: .ci/run installs it (apt-get install nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light); .ci/run installs it")
    sock = tmp_path / "asgicy.sock"
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF.format(tmp=tmp_path, sock=sock, port=port))
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"nginx exited: {proc.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", str(sock)
    finally:
        proc.terminate()  # by its PID; master_process off: this is the one nginx process
        proc.wait(10)


def test_http_and_websocket_through_nginx(nginx, launch):
    url, sock = nginx
    server = launch(asgicy_args("apps:app", "--uds", sock, "--workers", "2", "--forwarded-allow-ips", "unix"),
                    url_pattern=r"running on unix socket (\S+)")
    server.wait_log("running on unix socket")
    server.wait_for(lambda: _status(url + "/") == 200, what="a response through nginx")

    # nginx's view of the client, from X-Forwarded-For; what the client wrote there itself is not believed,
    # since 127.0.0.1 (the address nginx appended) is not a trusted proxy here, only the unix-socket peer.
    response = httpx.get(url + "/scope", headers={"x-forwarded-for": "198.51.100.9", "x-forwarded-proto": "https"})
    assert response.text == "127.0.0.1 0 http"

    # Requests over nginx's kept-alive upstream connections, and many at once (nginx opens more).
    with httpx.Client() as client:
        assert all(client.get(url + "/").status_code == 200 for _ in range(40))

    async def many():
        async with httpx.AsyncClient(timeout=20) as client:
            return await asyncio.gather(*(client.get(url + "/slow?0.2") for _ in range(24)))
    responses = asyncio.run(many())
    assert [r.status_code for r in responses] == [200] * 24

    async def talk():
        async with websockets.connect(url.replace("http", "ws") + "/ws") as ws:
            await ws.send("through nginx")
            return await ws.recv()
    assert asyncio.run(talk()) == "through nginx ws 127.0.0.1"
    assert server.stop() == 0
    assert not os.path.exists(sock)  # the supervisor removed its socket file


def _status(url):
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return None
