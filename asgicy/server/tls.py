"""TLS: the server's SSLContext from the ``--ssl-*`` options, and the ASGI ``tls`` extension of a connection.

The extension (asgiref specs/tls.rst) tells the app what the TLS layer knew: the server certificate, the
client's certificate chain and subject name, the protocol version and the cipher suite, the last two as the
numbers the IANA registries give them (0x0304 is TLS 1.3; 0x1301 is TLS_AES_128_GCM_SHA256).
"""

from __future__ import annotations

import os
import re
import ssl

# specs/tls.rst: tls_version is the 16-bit protocol version number from the TLS record layer.
TLS_VERSIONS = {"SSLv3": 0x0300, "TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.S)

# RFC 4514 3: the short names of attribute types, for client_cert_name.
_SHORT_NAMES = {"commonName": "CN", "localityName": "L", "stateOrProvinceName": "ST", "organizationName": "O",
                "organizationalUnitName": "OU", "countryName": "C", "streetAddress": "STREET",
                "domainComponent": "DC", "userId": "UID"}


class TLSConfigError(Exception):
    """The certificate, key, CA file or cipher list cannot be used; the message says which and why."""


def create_ssl_context(config) -> ssl.SSLContext:
    for name in ("ssl_certfile", "ssl_keyfile", "ssl_ca_certs"):
        path = getattr(config, name)
        if path and not os.path.isfile(path):  # ssl's own FileNotFoundError does not say which file
            raise TLSConfigError(f"{name} not found: {path}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(config.ssl_certfile, config.ssl_keyfile, config.ssl_keyfile_password)
    except ssl.SSLError as exc:
        raise TLSConfigError(f"cannot load the TLS certificate and key ({exc.reason or exc}): is the key the "
                             "certificate's, and the password right?") from None
    context.verify_mode = ssl.VerifyMode(config.ssl_cert_reqs)
    if config.ssl_ca_certs:
        try:
            context.load_verify_locations(config.ssl_ca_certs)
        except (FileNotFoundError, ssl.SSLError) as exc:
            raise TLSConfigError(f"cannot load the CA certificates {config.ssl_ca_certs!r}: {exc}") from None
    if config.ssl_ciphers:
        try:
            context.set_ciphers(config.ssl_ciphers)
        except ssl.SSLError:
            raise TLSConfigError(f"no usable cipher in the cipher list {config.ssl_ciphers!r}") from None
    # RFC 7301: what we speak over this connection, preferred first; RFC 9113 9.2: h2 needs TLS 1.2 or later
    # (the context's minimum already) and no renegotiation.
    context.set_alpn_protocols({"auto": ["h2", "http/1.1"], "1": ["http/1.1"], "2": ["h2"]}[config.http])
    context.options |= ssl.OP_NO_RENEGOTIATION
    return context


class TLSInfo:
    """What every TLS connection of one server shares: its certificate and the cipher suite numbers."""

    def __init__(self, context: ssl.SSLContext, certfile: str) -> None:
        with open(certfile, encoding="ascii", errors="replace") as fh:
            match = _PEM_CERT.search(fh.read())
        self.server_cert = match.group(0).strip() + "\n" if match else None
        # OpenSSL's cipher ids are 0x0300XXXX with the IANA number in the low 16 bits.
        self.cipher_ids = {cipher["name"]: cipher["id"] & 0xFFFF for cipher in context.get_ciphers()}

    def extension(self, ssl_object) -> dict:
        """The ``tls`` scope extension for one connection (its handshake is complete)."""
        der = ssl_object.getpeercert(binary_form=True)
        chain, name = [], None
        if der:
            chain = [ssl.DER_cert_to_PEM_cert(der)]
            name = rfc4514_name(ssl_object.getpeercert().get("subject", ()))
        cipher = ssl_object.cipher()
        return {
            "server_cert": self.server_cert,
            "client_cert_chain": chain,
            "client_cert_name": name,
            # OpenSSL refuses the handshake when a client certificate fails verification, so a connection
            # that exists has either no client certificate or a verified one.
            "client_cert_error": None,
            "tls_version": TLS_VERSIONS.get(ssl_object.version()),
            "cipher_suite": self.cipher_ids.get(cipher[0]) if cipher else None,
        }


def _escape(value: str) -> str:
    # RFC 4514 2.4: escape the specials, a leading '#' or space and a trailing space.
    out = "".join("\\" + ch if ch in ',+"\\<>;=' else ch for ch in value)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def rfc4514_name(subject) -> str | None:
    """A subject from ``getpeercert()`` (RDNs, most significant first) as an RFC 4514 string (least first)."""
    rdns = []
    for rdn in reversed(subject):
        rdns.append("+".join(f"{_SHORT_NAMES.get(key, key)}={_escape(value)}" for key, value in rdn))
    return ",".join(rdns) or None
