"""Headless Chromium, a real browser, against asgicy over TLS: it negotiates h2 by ALPN and loads a page whose
subresources come over the same HTTP/2 connection."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
import trustme

from asgicy.testing import serve_in_thread

CHROMIUM = next((path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(path)), None)

seen: list = []
state: dict = {}


def websocket_done() -> asyncio.Event:
    """Set once the page has had its WebSocket answer and closed it (made in the server's loop)."""
    if "done" not in state:
        state["done"] = asyncio.Event()
    return state["done"]


async def page(scope, receive, send):
    seen.append((scope["path"], scope["http_version"], scope["scheme"]))
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": f"{message['text']} over HTTP/{scope['http_version']}"})
        await receive()  # the page closes it once it has the answer
        websocket_done().set()
        return
    if scope["path"] == "/hold":
        # A request the page makes once its WebSocket is open, answered once the WebSocket is done: headless
        # Chromium's virtual time does not run out while a fetch is in flight (WebSocket traffic does not
        # hold it), so the DOM is dumped after the answer arrived however loaded the machine is.
        try:
            await asyncio.wait_for(websocket_done().wait(), 20)
        except TimeoutError:
            pass
        body = b"done"
        content_type = b"text/plain"
    elif scope["path"] == "/":
        body = (b"<!doctype html><title>h2</title><body><p id=version>" + scope["http_version"].encode()
                + b"</p><img src=/a.svg><img src=/b.svg><script src=/c.js></script></body>")
        content_type = b"text/html; charset=utf-8"
    elif scope["path"] == "/c.js":
        body = (b"document.body.dataset.loaded = 'yes';"
                b"const ws = new WebSocket('wss://' + location.host + '/ws');"
                b"ws.onopen = () => {"
                b"  fetch('/hold').then((r) => r.text()).then((t) => { document.body.dataset.held = t; });"
                b"  ws.send('hello'); };"
                b"ws.onmessage = (e) => { document.body.dataset.ws = e.data; ws.close(); };")
        content_type = b"text/javascript"
    else:
        body = b"<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/>"
        content_type = b"image/svg+xml"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
    await send({"type": "http.response.body", "body": body})


def test_chromium_loads_a_page_over_h2(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it (Debian's chromium)")
        pytest.skip("no chromium here (apt-get install chromium); .ci/run installs it")
    ca = trustme.CA()
    certfile = tmp_path / "cert.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(certfile)
    seen.clear()
    state.clear()
    with serve_in_thread(page, lifespan="off", access_log=False, ssl_certfile=str(certfile)) as running:
        out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
                              f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
                              "--dump-dom", running.url + "/"], capture_output=True, text=True, timeout=120)
    assert '<p id="version">2</p>' in out.stdout, out.stderr[-2000:]
    assert 'data-loaded="yes"' in out.stdout  # the script came and ran
    assert {path for path, _, _ in seen} >= {"/", "/a.svg", "/b.svg", "/c.js", "/ws"}
    assert {(version, scheme) for path, version, scheme in seen if path != "/ws"} == {("2", "https")}
    # Chromium opens the WebSocket on the HTTP/2 connection it has (RFC 8441: the server announced
    # SETTINGS_ENABLE_CONNECT_PROTOCOL), not on a new HTTP/1.1 one.
    assert ("/ws", "2", "wss") in seen
    assert 'data-ws="hello over HTTP/2"' in out.stdout
    assert 'data-held="done"' in out.stdout
