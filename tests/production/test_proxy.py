"""Proxy headers (RFC 7239 Forwarded, X-Forwarded-*) and the PROXY protocol: the sans-I/O rules, then a real
server."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import struct

import httpx
import pytest
import websockets

from asgicy.config import ConfigError
from asgicy.proxy import V2_SIGNATURE, ProxyProtocolError, ProxyProtocolParser, TrustedPeers, forwarded_client
from tests.integration.apps import echo_scope, hello

LOCAL = TrustedPeers.parse("127.0.0.1,10.0.0.0/8")


class TestTrustedPeers:
    def test_addresses_networks_unix_and_everyone(self):
        peers = TrustedPeers.parse("127.0.0.1, 10.0.0.0/8 ,2001:db8::/32")
        assert "127.0.0.1" in peers and "10.200.3.4" in peers and "2001:db8::7" in peers
        assert "::ffff:10.1.2.3" in peers  # IPv4-mapped, as a dual-stack socket reports it
        assert "11.0.0.1" not in peers and None not in peers and "not-an-ip" not in peers
        assert None in TrustedPeers.parse("unix") and "8.8.8.8" not in TrustedPeers.parse("unix")
        everyone = TrustedPeers.parse("*")
        assert "8.8.8.8" in everyone and None in everyone

    def test_a_bad_entry_is_a_config_error(self):
        with pytest.raises(ConfigError, match="'10.0.0.300' is not an address"):
            TrustedPeers.parse("10.0.0.300")


def h(*pairs):
    return [(name.encode(), value.encode()) for name, value in pairs]


PEER = ["127.0.0.1", 40000]


class TestForwardedHeaders:
    def test_x_forwarded_for_takes_the_nearest_untrusted_address(self):
        # The client wrote 6.6.6.6 itself; the trusted proxy appended the address it really saw.
        assert forwarded_client(h(("x-forwarded-for", "6.6.6.6, 203.0.113.5")), PEER, "http", LOCAL) == \
            (["203.0.113.5", 0], "http")
        assert forwarded_client(h(("x-forwarded-for", "6.6.6.6, 203.0.113.5, 10.0.0.2")), PEER, "http", LOCAL)[0] \
            == ["203.0.113.5", 0]
        # Split over two fields, as a chain of proxies may send it.
        assert forwarded_client(h(("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.5")), PEER, "http",
                                LOCAL)[0] == ["203.0.113.5", 0]
        # Every hop trusted: the first one is the client.
        assert forwarded_client(h(("x-forwarded-for", "10.0.0.9, 10.0.0.2")), PEER, "http", LOCAL)[0] == \
            ["10.0.0.9", 0]

    def test_x_forwarded_proto(self):
        assert forwarded_client(h(("x-forwarded-proto", "https")), PEER, "http", LOCAL) == (PEER, "https")
        assert forwarded_client(h(("x-forwarded-proto", "HTTP, wss")), PEER, "http", LOCAL) == (PEER, "https")
        assert forwarded_client(h(("x-forwarded-proto", "gopher")), PEER, "http", LOCAL) == (PEER, "http")

    def test_an_unparseable_address_is_no_client(self):
        assert forwarded_client(h(("x-forwarded-for", "_hidden")), PEER, "http", LOCAL)[0] is None

    @pytest.mark.parametrize("value, client, scheme", [
        ("for=192.0.2.60;proto=https;by=203.0.113.43", ["192.0.2.60", 0], "https"),
        ('for="[2001:db8:cafe::17]:4711"', ["2001:db8:cafe::17", 4711], "http"),
        ('For="192.0.2.43:47011"; Proto=HTTPS', ["192.0.2.43", 47011], "https"),
        ("for=192.0.2.43, for=198.51.100.17", ["198.51.100.17", 0], "http"),
        ("for=192.0.2.43;proto=https, for=10.0.0.3;proto=http", ["192.0.2.43", 0], "https"),
        ("for=unknown", None, "http"),
        ("for=_gazonk", None, "http"),
        ("proto=https", PEER, "https"),
    ])
    def test_forwarded(self, value, client, scheme):
        assert forwarded_client(h(("forwarded", value)), PEER, "http", LOCAL) == (client, scheme)

    def test_forwarded_wins_over_x_forwarded(self):
        headers = h(("x-forwarded-for", "198.51.100.1"), ("forwarded", "for=192.0.2.1"), ("x-forwarded-proto", "https"))
        assert forwarded_client(headers, PEER, "http", LOCAL) == (["192.0.2.1", 0], "http")

    @pytest.mark.parametrize("value", ['for="192.0.2.1', "for", "for=1.2.3.4;for=5.6.7.8", "=x", "for=1.2.3.4 x",
                                       "for=1.2.3.4;;"])
    def test_a_malformed_forwarded_header_is_ignored_whole(self, value):
        assert forwarded_client(h(("forwarded", value)), PEER, "http", LOCAL) == (PEER, "http")


def v2(command=1, family=0x11, block=b"", version=2):
    return V2_SIGNATURE + bytes([version << 4 | command, family]) + struct.pack("!H", len(block)) + block


def v2_inet(src, dst, sport, dport, tlvs=b""):
    source, dest = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    family = 0x11 if source.version == 4 else 0x21
    return v2(family=family, block=source.packed + dest.packed + struct.pack("!HH", sport, dport) + tlvs)


def parse_all(data: bytes, step: int | None = None):
    parser = ProxyProtocolParser()
    pieces = [data] if step is None else [data[i:i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        found = parser.feed(piece)
        if found is not None:
            return found
    return None


class TestProxyProtocol:  # HAProxy's proxy-protocol.txt
    @pytest.mark.parametrize("step", [None, 1, 7])
    @pytest.mark.parametrize("data, client, server", [
        (b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", ["192.0.2.1", 56324], ["198.51.100.2", 443]),
        (b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 80\r\n", ["2001:db8::1", 4000], ["2001:db8::2", 80]),
        (b"PROXY UNKNOWN ffff:f...f:ffff 65535 65535\r\n", None, None),
        (b"PROXY UNKNOWN\r\n", None, None),
        (v2_inet("192.0.2.1", "198.51.100.2", 56324, 443), ["192.0.2.1", 56324], ["198.51.100.2", 443]),
        (v2_inet("2001:db8::1", "2001:db8::2", 4000, 80, tlvs=b"\x04\x00\x03abc"), ["2001:db8::1", 4000],
         ["2001:db8::2", 80]),
        (v2(command=0, family=0x00), None, None),
        (v2(family=0x31, block=b"/tmp/a".ljust(108, b"\0") + b"/tmp/b".ljust(108, b"\0")), None, None),
    ])
    def test_headers_and_the_bytes_after_them(self, data, client, server, step):
        header, rest = parse_all(data + b"GET / HTTP/1.1\r\n", step)
        assert (header.client, header.server) == (client, server)
        if step is None:
            assert rest == b"GET / HTTP/1.1\r\n"

    def test_incomplete_is_none(self):
        assert parse_all(b"PROXY TCP4 192.0.2.1 ") is None
        assert parse_all(v2_inet("192.0.2.1", "198.51.100.2", 1, 2)[:20]) is None

    @pytest.mark.parametrize("data, message", [
        (b"GET / HTTP/1.1\r\n", "does not start with a PROXY protocol header"),
        (b"PROXX TCP4", "does not start with a PROXY protocol header"),
        (b"PROXY TCP4 192.0.2.1 198.51.100.2 056324 443\r\n", "not a number from 0 to 65535"),
        (b"PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n", "not a number from 0 to 65535"),
        (b"PROXY TCP4 192.0.2.1 198.51.100.2 +1 443\r\n", "not a number from 0 to 65535"),
        (b"PROXY TCP4 2001:db8::1 198.51.100.2 1 443\r\n", "is not TCP4"),
        (b"PROXY TCP4 192.0.2.256 198.51.100.2 1 443\r\n", "is not an IP address"),
        (b"PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n", "malformed PROXY v1 line"),
        (b"PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n", "malformed PROXY v1 line"),
        (b"PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n", "malformed PROXY v1 line"),
        (b"PROXY TCP4 " + b"1" * 120, "longer than 107 bytes"),
        (b"\r\n\r\n\x00\r\nQUIX\n", "does not start with a PROXY protocol header"),
        (v2(version=1), "with version 1"),
        (v2(command=2), "unknown command 2"),
        (v2(family=0x11, block=b"\x01\x02"), "too short"),
        (v2(family=0x41, block=b"x" * 40), "too short for family 0x41"),
    ])
    def test_malformed_headers_are_errors(self, data, message):
        with pytest.raises(ProxyProtocolError, match=message):
            parse_all(data)


# -- on a real server ----------------------------------------------------------------------------------------

async def get_scope(running, headers=None):
    async with httpx.AsyncClient() as client:
        return (await client.get(running.url + "/p", headers=headers or {})).json()


class TestProxyHeadersOnTheServer:
    async def test_trusted_peer(self, serve):
        async with serve(echo_scope) as running:  # 127.0.0.1 is trusted by default, as in uvicorn
            scope = await get_scope(running, {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"})
            assert scope["client"] == ["203.0.113.7", 0] and scope["scheme"] == "https"
            scope = await get_scope(running, {"forwarded": 'for="[2001:db8::5]:8443";proto=https'})
            assert scope["client"] == ["2001:db8::5", 8443] and scope["scheme"] == "https"
            plain = await get_scope(running)
            assert plain["client"][0] == "127.0.0.1" and plain["client"][1] > 0 and plain["scheme"] == "http"

    @pytest.mark.parametrize("options", [{"forwarded_allow_ips": "10.0.0.1"}, {"proxy_headers": False}])
    async def test_untrusted_or_off(self, serve, options):
        async with serve(echo_scope, **options) as running:
            scope = await get_scope(running, {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"})
            assert scope["client"][0] == "127.0.0.1" and scope["scheme"] == "http"

    async def test_websocket_scheme_and_client(self, serve):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps([scope["scheme"], scope["client"]])})
            await send({"type": "websocket.close"})

        async with serve(app) as running:
            url = running.url.replace("http", "ws")
            async with websockets.connect(url, additional_headers={"x-forwarded-proto": "https",
                                                                   "x-forwarded-for": "198.51.100.4"}) as ws:
                assert json.loads(await ws.recv()) == ["wss", ["198.51.100.4", 0]]

    async def test_access_log_shows_the_forwarded_client(self, serve, caplog):
        caplog.set_level("INFO", logger="asgicy.access")
        async with serve(hello) as running, httpx.AsyncClient() as client:
            await client.get(running.url + "/p", headers={"x-forwarded-for": "203.0.113.7"})
        assert "203.0.113.7:0 - \"GET /p HTTP/1.1\" 200" in caplog.text


async def raw_exchange(running, data: bytes, timeout=5) -> bytes:
    reader, writer = await asyncio.open_connection(running.host, running.port)
    writer.write(data)
    try:
        return await asyncio.wait_for(reader.read(65536), timeout)
    finally:
        writer.close()


class TestProxyProtocolOnTheServer:
    async def test_v1_and_v2_set_client_and_server(self, serve):
        async with serve(echo_scope, proxy_protocol=True) as running:
            for header in (b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n",
                           v2_inet("192.0.2.1", "198.51.100.2", 56324, 443)):
                request = b"GET /p HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
                answer = await raw_exchange(running, header + request)
                scope = json.loads(answer.partition(b"\r\n\r\n")[2])
                assert scope["client"] == ["192.0.2.1", 56324] and scope["server"] == ["198.51.100.2", 443]
            # LOCAL (a health check): the connection's own addresses.
            answer = await raw_exchange(running, v2(command=0, family=0) + b"GET /p HTTP/1.1\r\nhost: x\r\n"
                                                                          b"connection: close\r\n\r\n")
            assert json.loads(answer.partition(b"\r\n\r\n")[2])["client"][0] == "127.0.0.1"

    async def test_proxy_headers_are_judged_by_the_real_client(self, serve):
        async with serve(echo_scope, proxy_protocol=True) as running:
            answer = await raw_exchange(running, b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"
                                        b"GET /p HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 6.6.6.6\r\n"
                                        b"connection: close\r\n\r\n")
            assert json.loads(answer.partition(b"\r\n\r\n")[2])["client"] == ["192.0.2.1", 56324]

    async def test_missing_or_malformed_header_closes(self, serve, error_log):
        async with serve(hello, proxy_protocol=True) as running:
            assert await raw_exchange(running, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n") == b""
            assert await raw_exchange(running, b"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n") == b""
        assert error_log.text.count("invalid PROXY protocol header from 127.0.0.1") == 2

    async def test_untrusted_peer_is_closed(self, serve, error_log):
        async with serve(hello, proxy_protocol=True, forwarded_allow_ips="10.0.0.0/8") as running:
            assert await raw_exchange(running, b"PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\nGET / HTTP/1.1\r\n"
                                      b"host: x\r\n\r\n") == b""
        assert "not in --forwarded-allow-ips: closed" in error_log.text


async def test_access_log_durations_are_timed_from_the_request_head(serve, caplog):
    async def slow(scope, receive, send):
        # 60 ms, checked against 50: the loop's timers run on its own clock, read once per iteration,
        # which can be a few ms behind the clock the request head was timed with.
        await asyncio.sleep(0.06)
        await hello(scope, receive, send)

    caplog.set_level("INFO", logger="asgicy.access")
    async with serve(slow, access_log_format="%(s)s %(M)s") as running, httpx.AsyncClient() as client:
        await client.get(running.url)
    status, millis = caplog.records[-1].getMessage().split()
    assert status == "200" and 50 <= int(millis) < 5000
