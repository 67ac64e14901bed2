"""SSRF guard for webhook URLs: checked when an endpoint is saved and again before every send.

A URL passes when it is http(s) (https only in production), carries no credentials, and every address its
host resolves to is public. The sender then connects to one of exactly those vetted addresses (see
transport.py), so a DNS answer that changes between the check and the connect (DNS rebinding) cannot steer
the request inside the network. Integer, octal and short forms (`http://2130706433`, `http://127.1`) need no
special casing: they go through the resolver like any name and the addresses it returns are what is judged.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from marketplace.webhooks import conf

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ULA = ipaddress.ip_network("fc00::/7")
_METADATA = ipaddress.ip_address("169.254.169.254")

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The resolver, as a module attribute so a test can stand in for a DNS server that changes its answer.
getaddrinfo = socket.getaddrinfo


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message says why, for the client."""


@dataclass(frozen=True)
class Target:
    """A vetted destination: connect to one of `addresses`, while speaking to `host` (Host header, SNI)."""

    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    path: str  # path and query, as sent on the request line
    addresses: tuple[str, ...]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why webhooks may not go to `ip`, or None if it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if ip in _ULA:
            return "a unique-local IPv6 address"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:  # NAT64/6to4 reach the IPv4 address inside: judge that one
            inner = forbidden_reason(embedded)
            return f"an IPv6 address embedding {embedded}, {inner}" if inner else None
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip == _METADATA, "the cloud metadata address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.version == 4 and ip in _CGNAT, "a shared (CGNAT) address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (not ip.is_global, "a non-public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def check_syntax(url: str) -> Target:
    """Everything but DNS: scheme, credentials, host, port. Returns a Target without addresses."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURL("Enter a URL.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        raise UnsafeURL("The URL contains whitespace or control characters.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL("The URL must start with https:// (or http:// outside production).")
    if scheme != "https" and conf.https_only():
        raise UnsafeURL("Webhook URLs must use https.")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UnsafeURL("The URL must not contain a user name or password.")
    host = parts.hostname
    if not host:
        raise UnsafeURL("The URL has no host.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("The URL's port is not a number between 0 and 65535.") from None
    if port == 0:
        raise UnsafeURL("The URL's port is not a number between 1 and 65535.")
    try:
        ascii_host = host if _is_ip_literal(host) else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeURL("The URL's host name is not valid.") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=ascii_host, port=port, path=path, addresses=())


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeURL(f"The host {host!r} does not resolve.") from None
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise UnsafeURL(f"The host {host!r} does not resolve.")
    return tuple(addresses)


def vet_url(url: str) -> Target:
    """Check `url` completely, DNS included; raise UnsafeURL if **any** address it resolves to is forbidden."""
    target = check_syntax(url)
    addresses = resolve(target.host, target.port)
    if not conf.get("WEBHOOK_ALLOW_PRIVATE_NETWORKS"):
        for address in addresses:
            reason = forbidden_reason(ipaddress.ip_address(address))
            if reason and address == target.host:
                raise UnsafeURL(f"Webhooks cannot be sent to {address}: it is {reason}.")
            if reason:
                raise UnsafeURL(f"Webhooks cannot be sent to {target.host}: it resolves to {address}, {reason}.")
    return Target(scheme=target.scheme, host=target.host, port=target.port, path=target.path, addresses=addresses)
