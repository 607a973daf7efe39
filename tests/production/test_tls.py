"""TLS with certificates the test makes (trustme): https/wss in the scope and the ASGI `tls` extension."""

from __future__ import annotations

import asyncio
import json
import ssl

import httpx
import pytest
import trustme
import websockets

from asgicy import Config, ConfigError
from asgicy.server.server import StartupError


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def server_files(ca, tmp_path):
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_pem.write_to_path(keyfile)
    cert.cert_chain_pems[0].write_to_path(certfile)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(ca_file)
    return {"certfile": str(certfile), "keyfile": str(keyfile), "ca": str(ca_file), "cert": cert}


async def tls_scope(scope, receive, send):
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps([scope["scheme"], scope["extensions"]["tls"]])})
        await send({"type": "websocket.close"})
        return
    payload = json.dumps({"scheme": scope["scheme"], "tls": scope["extensions"].get("tls")}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


async def test_https_scope_and_tls_extension(serve, ca, server_files):
    async with serve(tls_scope, ssl_certfile=server_files["certfile"], ssl_keyfile=server_files["keyfile"]) \
            as running:
        assert running.url.startswith("https://")
        context = ssl.create_default_context(cafile=server_files["ca"])
        async with httpx.AsyncClient(verify=context) as client:
            data = (await client.get(running.url + "/")).json()
    tls = data["tls"]
    assert data["scheme"] == "https"
    assert tls["server_cert"] == server_files["cert"].cert_chain_pems[0].bytes().decode().strip() + "\n"
    assert tls["client_cert_chain"] == [] and tls["client_cert_name"] is None and tls["client_cert_error"] is None
    assert tls["tls_version"] == 0x0304  # TLS 1.3 between two modern OpenSSLs
    assert tls["cipher_suite"] in (0x1301, 0x1302, 0x1303)  # the TLS 1.3 suites (RFC 8446 B.4)


async def test_tls12_cipher_suite_number(serve, server_files):
    async with serve(tls_scope, ssl_certfile=server_files["certfile"], ssl_keyfile=server_files["keyfile"],
                     ssl_ciphers="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256") as running:
        context = ssl.create_default_context(cafile=server_files["ca"])
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        async with httpx.AsyncClient(verify=context) as client:
            tls = (await client.get(running.url + "/")).json()["tls"]
    assert tls["tls_version"] == 0x0303
    assert tls["cipher_suite"] in (0xC02F, 0xC02B)  # the IANA numbers of the two suites allowed


async def test_client_certificates(serve, ca, server_files, tmp_path):
    client_cert = ca.issue_cert("alice@example.com", common_name="Alice, Ltd")
    async with serve(tls_scope, ssl_certfile=server_files["certfile"], ssl_keyfile=server_files["keyfile"],
                     ssl_ca_certs=server_files["ca"], ssl_cert_reqs=2) as running:
        context = ssl.create_default_context(cafile=server_files["ca"])
        client_cert.configure_cert(context)
        async with httpx.AsyncClient(verify=context) as client:
            tls = (await client.get(running.url + "/")).json()["tls"]
        assert tls["client_cert_chain"][0] == client_cert.cert_chain_pems[0].bytes().decode()
        assert "CN=Alice\\, Ltd" in tls["client_cert_name"]  # RFC 4514 2.4 escaping
        # Required, and none given: the handshake fails and nothing reaches the app.
        context = ssl.create_default_context(cafile=server_files["ca"])
        async with httpx.AsyncClient(verify=context) as client:
            with pytest.raises(httpx.HTTPError):
                await client.get(running.url + "/")


async def test_wss_scope(serve, server_files):
    async with serve(tls_scope, ssl_certfile=server_files["certfile"], ssl_keyfile=server_files["keyfile"]) \
            as running:
        context = ssl.create_default_context(cafile=server_files["ca"])
        async with websockets.connect(running.url.replace("https", "wss"), ssl=context) as ws:
            scheme, tls = json.loads(await ws.recv())
    assert scheme == "wss" and tls["tls_version"] == 0x0304


async def test_plain_http_has_no_tls_extension(serve):
    async with serve(tls_scope) as running, httpx.AsyncClient() as client:
        assert (await client.get(running.url + "/")).json() == {"scheme": "http", "tls": None}


async def test_pathsend_over_tls_copies_the_file(serve, server_files, tmp_path):
    data = bytes(range(256)) * 4096  # 1 MiB: sendfile cannot go through TLS, so the copy path runs
    path = tmp_path / "blob.bin"
    path.write_bytes(data)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.pathsend", "path": str(path)})

    async with serve(app, ssl_certfile=server_files["certfile"], ssl_keyfile=server_files["keyfile"]) as running:
        context = ssl.create_default_context(cafile=server_files["ca"])
        async with httpx.AsyncClient(verify=context) as client:
            assert (await client.get(running.url + "/")).content == data


@pytest.mark.parametrize("change, message", [
    ({"ssl_keyfile": "/nonexistent/key.pem"}, "ssl_keyfile not found: /nonexistent/key.pem"),
    ({"ssl_keyfile_password": "wrong"}, "cannot load the TLS certificate and key"),
    ({"ssl_ciphers": "NO-SUCH-CIPHER"}, "no usable cipher"),
    ({"ssl_ca_certs": "/nonexistent/ca.pem"}, "ssl_ca_certs not found"),
    ({"ssl_ca_certs": "KEY"}, "cannot load the CA certificates"),
])
async def test_bad_tls_files_are_a_startup_error(serve, server_files, tmp_path, change, message):
    options = {"ssl_certfile": server_files["certfile"], "ssl_keyfile": server_files["keyfile"], **change}
    if options.get("ssl_ca_certs") == "KEY":
        options["ssl_ca_certs"] = server_files["keyfile"]  # a file, but no certificate in it
    if change.get("ssl_keyfile_password"):
        # An encrypted key, and the wrong password for it.
        from cryptography.hazmat.primitives import serialization
        key = serialization.load_pem_private_key(server_files["cert"].private_key_pem.bytes(), None)
        encrypted = tmp_path / "encrypted.pem"
        encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.BestAvailableEncryption(b"right")))
        options["ssl_keyfile"] = str(encrypted)
    with pytest.raises(StartupError, match=message):
        async with serve(tls_scope, **options):
            pass


def test_tls_options_need_a_certificate():
    with pytest.raises(ConfigError, match="ssl_ca_certs needs ssl_certfile"):
        Config(ssl_ca_certs="ca.pem")


async def large_bodies(scope, receive, send):
    # Bodies past SEPARATE_BODY reach the transport beside their head (writelines), eagerly and after the
    # app has suspended; TLS transports must take them as plain ones do.
    size = int(scope["path"].strip("/"))
    body = bytes(range(256)) * (size // 256)
    if size % 512 == 0:
        await asyncio.sleep(0)  # this one is answered from the host task, not in the read
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
async def test_large_bodies_arrive_whole_and_in_order(serve, server_files, tls):
    options = {"ssl_certfile": server_files["certfile"], "ssl_keyfile": server_files["keyfile"]} if tls else {}
    sizes = [256, 100_096, 16_384, 300_032, 65_536, 768]  # multiples of 512 suspend first
    async with serve(large_bodies, **options) as running:
        context = ssl.create_default_context(cafile=server_files["ca"]) if tls else False
        async with httpx.AsyncClient(verify=context) as client:
            for size in sizes:
                response = await client.get(f"{running.url}/{size}")
                assert response.content == bytes(range(256)) * (size // 256), size
