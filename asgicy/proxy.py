"""What a reverse proxy or load balancer tells asgicy about the real client, and whom to believe. Sans-I/O.

- ``TrustedPeers``: the ``--forwarded-allow-ips`` list (addresses, CIDR networks, ``unix`` for unix-socket
  peers, ``*``). Only a trusted peer's proxy headers or PROXY protocol header are believed: anyone else
  could write them.
- ``forwarded_client()``: the client address and scheme from ``Forwarded`` (RFC 7239) or, when a request has
  none, ``X-Forwarded-For`` / ``X-Forwarded-Proto``. The list is read from the right (the nearest proxy) and
  the first address not itself trusted is the client, so a client cannot spoof its address by sending the
  header itself: what it wrote sits further left than the address the trusted proxy appended.
- ``ProxyProtocolParser``: the PROXY protocol, versions 1 (text) and 2 (binary) from HAProxy's
  specification (proxy-protocol.txt), which load balancers send before the first byte of the client's.
  Strict, as the request parser is: anything malformed is an error and the connection is closed.
"""

from __future__ import annotations

import ipaddress
import struct

UNIX = "unix"


class TrustedPeers:
    """The peers whose proxy information is believed."""

    __slots__ = ("everyone", "unix", "networks", "_cache")

    def __init__(self, everyone: bool, unix: bool, networks: tuple) -> None:
        self.everyone = everyone
        self.unix = unix
        self.networks = networks
        self._cache: dict = {}

    @classmethod
    def parse(cls, text: str) -> TrustedPeers:
        from .errors import ConfigError

        everyone = unix = False
        networks = []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            if entry == "*":
                everyone = True
            elif entry.lower() in (UNIX, "unix:"):
                unix = True
            else:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise ConfigError(f"forwarded_allow_ips: {entry!r} is not an address, a network, 'unix' "
                                      "or '*'") from None
        return cls(everyone, unix, tuple(networks))

    def __contains__(self, host: str | None) -> bool:
        """``host`` is a peer's address as text, or None for a unix-socket peer."""
        if self.everyone:
            return True
        if host is None:
            return self.unix
        known = self._cache.get(host)
        if known is None:
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                return False
            if address.version == 6 and address.ipv4_mapped is not None:
                address = address.ipv4_mapped  # ::ffff:127.0.0.1 on a dual-stack socket is 127.0.0.1
            known = any(address in network for network in self.networks)
            if len(self._cache) < 1024:
                self._cache[host] = known
        return known


# -- proxy headers ----------------------------------------------------------------------------------------

_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _parse_forwarded(values: list) -> list | None:
    """RFC 7239 4: the elements of every Forwarded field in order, each a dict of lowercased parameter names
    to values; None when any part is malformed (then the header is ignored as a whole)."""
    elements = []
    for value in values:
        text = value.decode("latin-1")
        i, n = 0, len(text)
        element: dict = {}
        while True:
            while i < n and text[i] in " \t":
                i += 1
            j = i
            while j < n and text[j] not in "=;, \t\"":
                j += 1
            name = text[i:j].lower()
            if not name or j >= n or text[j] != "=":
                return None
            i = j + 1
            if i < n and text[i] == '"':  # quoted-string (RFC 9110 5.6.4)
                chars = []
                i += 1
                while i < n and text[i] != '"':
                    if text[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    return None
                param = "".join(chars)
                i += 1
            else:
                j = i
                while j < n and text[j] not in ";, \t\"":
                    j += 1
                param = text[i:j]
                i = j
                if not param:
                    return None
            if name in element:
                return None  # RFC 7239 4: each parameter at most once per element
            element[name] = param
            while i < n and text[i] in " \t":
                i += 1
            if i >= n:
                elements.append(element)
                break
            if text[i] == ";":
                i += 1
            elif text[i] == ",":
                elements.append(element)
                element = {}
                i += 1
            else:
                return None
    return elements


def _node(value: str) -> list | None:
    """A Forwarded ``for`` node (RFC 7239 6): an address with an optional port, as an ASGI client; None for
    'unknown' or an obfuscated identifier, which say the client cannot be known."""
    host, port = value, 0
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1:]
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
        port = int(port_text) if port_text.isdigit() else 0
    if not _valid_ip(host):
        return None
    return [host, port if port <= 65535 else 0]


def forwarded_client(headers: list, client, scheme: str, trusted: TrustedPeers) -> tuple:
    """(client, scheme) for a request from a trusted peer, from its proxy headers; unchanged without them."""
    forwarded = []
    xff = []
    xfp = None
    for name, value in headers:
        if name == b"forwarded":
            forwarded.append(value)
        elif name == b"x-forwarded-for":
            xff.append(value)
        elif name == b"x-forwarded-proto":
            xfp = value
    if forwarded:
        elements = _parse_forwarded(forwarded)
        if elements:
            chosen = None
            for element in reversed(elements):
                chosen = element
                node = element.get("for")
                address = _node(node) if node is not None else None
                if address is None or address[0] not in trusted:
                    break
            node = chosen.get("for")
            if node is not None:
                client = _node(node)
            proto = chosen.get("proto", "").lower()
            scheme = _SCHEMES.get(proto, scheme)
        return client, scheme
    if xff:
        hosts = [part.strip() for value in xff for part in value.decode("latin-1").split(",")]
        chosen_host = None
        for host in reversed(hosts):
            chosen_host = host
            if host not in trusted:
                break
        if chosen_host:
            client = [chosen_host, 0] if _valid_ip(chosen_host) else None
    if xfp is not None:
        proto = xfp.decode("latin-1").split(",")[-1].strip().lower()
        scheme = _SCHEMES.get(proto, scheme)
    return client, scheme


# -- the PROXY protocol -----------------------------------------------------------------------------------

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_MAX = 107  # proxy-protocol.txt 2.1: the longest v1 line, CRLF included


class ProxyProtocolError(Exception):
    """A PROXY protocol header is missing or malformed; the message says how."""


class ProxyHeader:
    """What a PROXY header said: the client's and the proxy's (destination) addresses as ASGI [host, port]
    lists, or None for a LOCAL / UNKNOWN header (a health check: the connection is the proxy's own)."""

    __slots__ = ("client", "server", "version")

    def __init__(self, client, server, version: int) -> None:
        self.client = client
        self.server = server
        self.version = version


class ProxyProtocolParser:
    """Feed bytes until ``feed`` returns (header, bytes after it); it returns None while more is needed."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes):
        buffer = self.buffer = self.buffer + data
        if not buffer:
            return None
        if buffer[:1] == b"P":
            if buffer[:6] != b"PROXY "[:len(buffer)]:
                raise ProxyProtocolError("the connection does not start with a PROXY protocol header")
            end = buffer.find(b"\r\n", 0, V1_MAX)
            if end < 0:
                if len(buffer) >= V1_MAX:
                    raise ProxyProtocolError("PROXY v1 line longer than 107 bytes")
                return None
            return _parse_v1(buffer[:end]), buffer[end + 2:]
        if buffer[:1] == b"\r":
            if not V2_SIGNATURE.startswith(buffer[:12]):
                raise ProxyProtocolError("the connection does not start with a PROXY protocol header")
            if len(buffer) < 16:
                return None
            length = struct.unpack_from("!H", buffer, 14)[0]
            if len(buffer) < 16 + length:
                return None
            return _parse_v2(buffer[12], buffer[13], buffer[16:16 + length]), buffer[16 + length:]
        raise ProxyProtocolError("the connection does not start with a PROXY protocol header")


def _port(text: bytes) -> int:
    # proxy-protocol.txt 2.1: a decimal 0..65535 (no sign, no leading zeros but for 0 itself)
    if not text.isdigit() or (len(text) > 1 and text[:1] == b"0") or int(text) > 65535:
        raise ProxyProtocolError(f"PROXY v1 port {text!r} is not a number from 0 to 65535")
    return int(text)


def _parse_v1(line: bytes) -> ProxyHeader:
    parts = line.split(b" ")
    if len(parts) >= 2 and parts[1] == b"UNKNOWN":
        return ProxyHeader(None, None, 1)  # the proxy could not tell; the rest of the line is ignored
    if len(parts) != 6 or parts[1] not in (b"TCP4", b"TCP6"):
        raise ProxyProtocolError(f"malformed PROXY v1 line {line[:V1_MAX]!r}")
    version = 4 if parts[1] == b"TCP4" else 6
    hosts = []
    for raw in parts[2:4]:
        try:
            address = ipaddress.ip_address(raw.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            raise ProxyProtocolError(f"PROXY v1 address {raw!r} is not an IP address") from None
        if address.version != version:
            raise ProxyProtocolError(f"PROXY v1 address {raw!r} is not {parts[1].decode()}")
        hosts.append(str(address))
    return ProxyHeader([hosts[0], _port(parts[4])], [hosts[1], _port(parts[5])], 1)


def _parse_v2(version_command: int, family: int, block: bytes) -> ProxyHeader:
    if version_command >> 4 != 2:
        raise ProxyProtocolError(f"PROXY v2 header with version {version_command >> 4}")
    command = version_command & 0x0F
    if command == 0:  # LOCAL: the proxy's own connection (a health check); the block is ignored
        return ProxyHeader(None, None, 2)
    if command != 1:
        raise ProxyProtocolError(f"PROXY v2 header with unknown command {command}")
    transport_family = family >> 4
    if transport_family == 1 and len(block) >= 12:  # AF_INET: 4+4 address bytes, 2+2 port bytes
        src, dst = ipaddress.IPv4Address(block[0:4]), ipaddress.IPv4Address(block[4:8])
        sport, dport = struct.unpack_from("!HH", block, 8)
    elif transport_family == 2 and len(block) >= 36:  # AF_INET6
        src, dst = ipaddress.IPv6Address(block[0:16]), ipaddress.IPv6Address(block[16:32])
        sport, dport = struct.unpack_from("!HH", block, 32)
    elif transport_family in (0, 3):  # AF_UNSPEC, AF_UNIX: no address an ASGI client can carry
        return ProxyHeader(None, None, 2)
    else:
        raise ProxyProtocolError(f"PROXY v2 address block too short for family {family:#04x}")
    # What follows the addresses is TLVs (proxy-protocol.txt 2.2.x); nothing asgicy needs is among them.
    return ProxyHeader([str(src), sport], [str(dst), dport], 2)
