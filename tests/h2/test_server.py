"""HTTP/2 through a real asgicy server: the ASGI scope per stream, bodies both ways with flow control, the
response extensions, resets and disconnects, the three ways in (prior knowledge, Upgrade, ALPN), other clients
(httpx, curl), and the abuse bounds as a client meets them."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import struct
import subprocess
import time

import h2.errors
import h2.settings
import httpx
import pytest
import trustme

from asgicy.testing import serve_in_thread

from tests.sansio.h2frames import read_frames

from .client import Client


async def echo(scope, receive, send):
    """Answers with the scope (minus what is not JSON) and the body it read."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    shown = {k: v for k, v in scope.items() if k in ("http_version", "method", "scheme", "path", "raw_path",
                                                    "query_string", "headers", "root_path")}
    shown = json.dumps(shown, default=lambda b: b.decode("latin-1")).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"),
                                                                         (b"X-Body-Length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": shown})


@pytest.fixture(scope="module")
def server():
    with serve_in_thread(echo, lifespan="off", access_log=False) as running:
        yield running


def connect(running, **options):
    return Client(running.host, running.port, **options)


def test_scope_over_http2(server):
    client = connect(server)
    response = client.get("/a%20b?x=1", headers=[(b"host", b"example.com"), (b"accept", b"*/*")])
    scope = json.loads(response.body)
    assert response.status == 200
    assert scope["http_version"] == "2" and scope["method"] == "GET" and scope["scheme"] == "http"
    assert scope["path"] == "/a b" and scope["raw_path"] == "/a%20b" and scope["query_string"] == "x=1"
    # ASGI (www.rst): no pseudo-headers; :authority first, as host, replacing the host field.
    assert scope["headers"] == [["host", "example.com"], ["accept", "*/*"]]
    assert response.header(b"x-body-length") == b"0"  # response field names go out lower case (RFC 9113 8.2)
    assert response.header(b"date") and response.header(b"server") == b"asgicy"


def test_streams_interleave_on_one_connection(server):
    client = connect(server)
    ids = [client.request(f"/{i}", method="POST", body=bytes([65 + i]) * (1000 * i), end=True) for i in range(10)]
    responses = client.wait(*ids)
    assert [json.loads(r.body)["path"] for r in responses] == [f"/{i}" for i in range(10)]
    assert [int(r.header(b"x-body-length")) for r in responses] == [1000 * i for i in range(10)]


def test_a_large_body_arrives_whole_through_the_windows(server):
    client = connect(server)
    body = bytes(range(256)) * 8192  # 2 MiB: many times the stream window (128 KiB) and the connection's
    response = client.wait(client.request("/upload", method="POST", body=body))[0]
    assert int(response.header(b"x-body-length")) == len(body)


def test_curl_with_prior_knowledge(server):
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is needed (Debian package curl)")
    out = subprocess.run([curl, "-s", "--http2-prior-knowledge", "-w", "%{http_version}", "-d", "hello",
                          f"http://{server.host}:{server.port}/c"], capture_output=True, timeout=30)
    assert out.stdout.endswith(b"2") and json.loads(out.stdout[:-1])["http_version"] == "2"


def test_upgrade_h2c_answers_on_stream_1(server):
    with socket.create_connection((server.host, server.port)) as sock:
        sock.sendall(b"GET /up HTTP/1.1\r\nhost: example.com\r\nconnection: Upgrade, HTTP2-Settings\r\n"
                     b"upgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101 ") and b"upgrade: h2c" in head
        import h2.config
        import h2.connection
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        conn.initiate_upgrade_connection()
        sock.sendall(conn.data_to_send())
        body = b""
        ended = False
        while not ended:
            for event in conn.receive_data(sock.recv(65536)):
                if isinstance(event, h2.events.DataReceived) and event.stream_id == 1:
                    body += event.data
                ended = ended or isinstance(event, h2.events.StreamEnded) and event.stream_id == 1
            sock.sendall(conn.data_to_send())
        assert json.loads(body)["path"] == "/up" and json.loads(body)["http_version"] == "2"


def test_http_1_option_keeps_the_preface_out():
    with serve_in_thread(echo, lifespan="off", access_log=False, http="1") as running:
        with socket.create_connection((running.host, running.port)) as sock:
            sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 ")  # an HTTP/1.1 error: no HTTP/2 spoken


# -- over TLS ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    folder = tmp_path_factory.mktemp("tls")
    certfile = folder / "cert.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(certfile)
    cafile = folder / "ca.pem"
    ca.cert_pem.write_to_path(cafile)
    with serve_in_thread(echo, lifespan="off", access_log=False, ssl_certfile=str(certfile)) as running:
        yield running, str(cafile)


def test_alpn_h2_with_httpx(tls_server):
    running, cafile = tls_server

    async def go():
        async with httpx.AsyncClient(http2=True, verify=ssl.create_default_context(cafile=cafile)) as client:
            return await asyncio.gather(*[client.post(f"{running.url}/{i}", content=b"x" * i * 1000)
                                          for i in range(8)])
    responses = asyncio.run(go())
    assert {r.http_version for r in responses} == {"HTTP/2"}
    assert [json.loads(r.text)["scheme"] for r in responses] == ["https"] * 8
    assert [int(r.headers["x-body-length"]) for r in responses] == [i * 1000 for i in range(8)]


def test_alpn_still_offers_http11(tls_server):
    running, cafile = tls_server
    # httpx without http2 offers ALPN http/1.1 alone: the same port answers it as HTTP/1.1.
    response = httpx.get(running.url + "/one", verify=ssl.create_default_context(cafile=cafile))
    assert response.http_version == "HTTP/1.1" and json.loads(response.text)["http_version"] == "1.1"


def test_curl_over_tls(tls_server):
    running, cafile = tls_server
    out = subprocess.run(["curl", "-s", "--cacert", cafile, "-w", "%{http_version}", running.url + "/t"],
                         capture_output=True, timeout=30)
    assert out.stdout.endswith(b"2") and json.loads(out.stdout[:-1])["scheme"] == "https"


# -- the response extensions and the ASGI rules over streams --------------------------------------------------

async def extensions(scope, receive, send):
    path = scope["path"]
    if path == "/trailers":
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": b"data", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [(b"grpc-status", b"0")], "more_trailers": False})
    elif path == "/early":
        await send({"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload; as=style"]})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"after the hint"})
    elif path == "/pathsend":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": scope["state"]["file"]})
    elif path == "/zerocopy":
        with open(scope["state"]["file"], "rb") as fh:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.zerocopysend", "file": fh, "offset": 10, "count": 100000,
                        "more_body": False})
    elif path == "/fail-before":
        raise RuntimeError("boom")
    elif path == "/fail-during":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("boom")
    elif path == "/wait-disconnect":
        message = await receive()
        while message["type"] != "http.disconnect":
            message = await receive()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            scope["state"]["after_reset"].append("sent")
        except OSError as exc:  # ClientDisconnected (ASGI HTTP spec 2.4)
            scope["state"]["after_reset"].append(type(exc).__name__)
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(10000):
            await send({"type": "http.response.body", "body": b"s" * 16384, "more_body": True})
            scope["state"]["sent"].append(1)
        await send({"type": "http.response.body", "body": b""})
    elif path == "/slow":
        await asyncio.sleep(1)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"hello"})


def lifespan_app(shared):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            scope["state"].update(shared)
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await extensions(scope, receive, send)
    return app


@pytest.fixture(scope="module")
def ext_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "file.bin"
    content = bytes(range(256)) * 1000
    path.write_bytes(content)
    shared = {"file": str(path), "after_reset": [], "sent": []}
    with serve_in_thread(lifespan_app(shared), access_log=False, h2_max_concurrent_streams=4,
                         timeout_header_read=1.0) as running:
        running.shared = shared
        running.content = content
        yield running


def test_trailers_end_the_response_without_te(ext_server):
    response = connect(ext_server).get("/trailers")
    assert bytes(response.body) == b"data" and response.trailers == [(b"grpc-status", b"0")]


def test_early_hint_is_a_103_before_the_response(ext_server):
    response = connect(ext_server).get("/early")
    assert response.informational == [[(b":status", b"103"), (b"link", b"</style.css>; rel=preload; as=style")]]
    assert response.status == 200 and bytes(response.body) == b"after the hint"


def test_pathsend_and_zerocopysend_as_data_frames(ext_server):
    client = connect(ext_server)
    whole = client.get("/pathsend")
    assert bytes(whole.body) == ext_server.content and whole.header(b"content-length") == b"256000"
    piece = client.get("/zerocopy")
    assert bytes(piece.body) == ext_server.content[10:100010]


def test_head_has_no_body_but_its_length(ext_server):
    response = connect(ext_server).get("/", method="HEAD")
    assert response.status == 200 and response.body == b"" and response.header(b"content-length") == b"5"


def test_app_errors(ext_server):
    client = connect(ext_server)
    assert client.get("/fail-before").status == 500
    failed = client.get("/fail-during")
    assert failed.reset == h2.errors.ErrorCodes.INTERNAL_ERROR  # the client sees it incomplete
    assert client.get("/").status == 200  # the connection goes on


def test_reset_is_a_disconnect_and_send_after_it_raises(ext_server):
    client = connect(ext_server)
    stream = client.request("/wait-disconnect", method="POST", body=b"x", end=False)
    time.sleep(0.2)
    client.conn.reset_stream(stream)
    client.flush()
    deadline = time.monotonic() + 5
    while not ext_server.shared["after_reset"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ext_server.shared["after_reset"] == ["ClientDisconnected"]


def test_a_client_that_never_opens_its_window_holds_the_app_not_memory(ext_server):
    client = connect(ext_server, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0}, auto_window=False)
    client.request("/stream")
    time.sleep(1.0)
    client.read_once(0.5)
    sent = len(ext_server.shared["sent"])
    # 16 KiB pieces: the stream holds at most STREAM_HIGH_WATER (64 KiB) before the app's send waits.
    assert sent <= 5, sent
    time.sleep(0.5)
    assert len(ext_server.shared["sent"]) == sent  # still waiting: nothing more was buffered
    client.close()


def test_too_many_streams_are_refused_and_the_rest_served(ext_server):
    client = connect(ext_server)
    ids = [client.request("/slow") for _ in range(6)]
    responses = client.wait(*ids)
    refused = [r for r in responses if r.reset == h2.errors.ErrorCodes.REFUSED_STREAM]
    assert len(refused) == 2 and sum(1 for r in responses if r.reset is None and r.status == 204) == 4


def test_rapid_reset_gets_goaway_and_other_connections_go_on(ext_server):
    attacker = connect(ext_server)
    for _ in range(300):
        stream = attacker.request("/slow")
        attacker.conn.reset_stream(stream)
    attacker.flush()
    goaway = attacker.goaway()
    assert goaway is not None and goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    assert connect(ext_server).get("/").status == 200


def test_a_preface_that_never_completes_is_closed_after_the_head_timeout(ext_server):
    with socket.create_connection((ext_server.host, ext_server.port)) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n")  # and then nothing
        started = time.monotonic()
        sock.settimeout(5)
        while sock.recv(65536):
            pass
        assert time.monotonic() - started < 3  # --timeout-header-read 1 (the ticker checks twice a second)


def test_a_header_block_that_never_completes_is_closed_too(ext_server):
    client = connect(ext_server)
    client.sock.sendall(b"\x00\x00\x05\x01\x00\x00\x00\x00\x01" + b"\x82\x86\x84\x41\x0f")  # HEADERS, no END_HEADERS
    started = time.monotonic()
    goaway = client.goaway(5)
    assert client.closed or goaway is not None
    assert time.monotonic() - started < 3


def test_a_zero_window_stall_is_reset_after_the_send_timeout(tmp_path):
    shared = {"file": "/dev/null", "after_reset": [], "sent": []}
    with serve_in_thread(lifespan_app(shared), access_log=False, timeout_send=1.0) as running:
        client = connect(running, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0}, auto_window=False)
        stream = client.request("/stream")
        started = time.monotonic()
        [response] = client.wait(stream, timeout=10)
        assert response.reset == h2.errors.ErrorCodes.CANCEL
        assert 1.0 <= time.monotonic() - started < 4.0  # --timeout-send 1 (the ticker checks twice a second)
        assert connect(running).get("/").status == 200  # the server goes on


def test_an_http1_client_that_reads_nothing_is_closed_after_the_send_timeout():
    async def large(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            await send({"type": "http.response.body", "body": b"z" * 65536, "more_body": True})

    with serve_in_thread(large, lifespan="off", access_log=False, timeout_send=1.0) as running:
        with socket.create_connection((running.host, running.port)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            state = running.server.server_state
            deadline = time.monotonic() + 6
            while not any(conn.write_paused for conn in state.connections) and time.monotonic() < deadline:
                time.sleep(0.05)  # reading nothing: the server's buffer fills and its writing pauses
            assert state.connections, "the response never filled the buffer"
            paused = time.monotonic()
            while state.connections and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not state.connections and 0.5 <= time.monotonic() - paused < 3.0  # --timeout-send 1
            while state.cycles and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not state.cycles  # the app was told (ClientDisconnected from its send) and ended


def test_graceful_shutdown_sends_goaway_and_lets_streams_finish():
    async def slow(scope, receive, send):
        await asyncio.sleep(0.5)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"finished"})

    with serve_in_thread(slow, lifespan="off", access_log=False) as running:
        client = connect(running)
        first, second = client.request("/1"), client.request("/2")
        time.sleep(0.2)  # both are running
        loop = running.server.server_state.loop
        loop.call_soon_threadsafe(running.server.request_exit)
        # Read the raw frames: the h2 library closes its side at GOAWAY, where RFC 9113 6.8 lets the streams
        # it covers finish.
        data = b""
        client.sock.settimeout(5)
        while chunk := client.sock.recv(65536):
            data += chunk
    frames = [f for f in read_frames(data) if f[0] in (0, 7)]  # DATA and GOAWAY
    goaway = next(f for f in frames if f[0] == 7)
    assert goaway[3][:8] == struct.pack(">II", second, 0)  # NO_ERROR, last stream: the second request
    finished = {stream for kind, flags, stream, payload in frames if kind == 0 and payload == b"finished"
                and flags & 1}
    assert finished == {first, second}  # in flight when GOAWAY went out: answered, then the close
