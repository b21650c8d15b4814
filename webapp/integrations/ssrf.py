"""The SSRF guard: the server POSTs only to public addresses, unless an operator allows a network.

Webhooks and slash commands make the server send requests to URLs that room owners give. Without
a guard, an owner could reach what only the server can: a database's admin port on loopback, a
cloud's metadata service (169.254.169.254), the office network. So a target's host is resolved
and every address it resolves to must be public (or inside WEBHOOK_ALLOWED_NETWORKS); this is
checked when the URL is registered and again before each request (DNS may change meanwhile), and
the request connects to the address checked, never to a name resolved a second time.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from webapp.errors import AppError

MAX_URL = 2000


class TargetRefused(AppError):
    code = "target_refused"
    status = 400


@dataclass(frozen=True)
class Target:
    """A URL whose host was resolved and checked: connect to ``address``, say ``host``."""

    scheme: str
    host: str  # as written (for the Host header and TLS)
    port: int
    path: str  # path and query
    address: str  # the checked IP address to connect to


def _networks() -> list:
    return [ipaddress.ip_network(n, strict=False)
            for n in current_app.config["WEBHOOK_ALLOWED_NETWORKS"]]


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is a public unicast one (IPv4-mapped IPv6 judged as its IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_loopback or address.is_private or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified
                or not address.is_global)


def allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Public, or inside a network the operator allows (WEBHOOK_ALLOWED_NETWORKS)."""
    if public(address):
        return True
    plain = address.ipv4_mapped if getattr(address, "ipv4_mapped", None) else address
    return any(plain in network for network in _networks() if plain.version == network.version)


def check_url(url: object) -> str:
    """A URL fit to store: http(s), a host, no credentials, short enough; its host allowed now."""
    resolve(url)
    return url  # type: ignore[return-value]


def resolve(url: object) -> Target:
    """Resolve ``url``'s host and answer a Target on its first address, all of them allowed."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise AppError(f"'url' must be an http(s) URL of at most {MAX_URL} characters.",
                       code="invalid_url")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise AppError("'url' is not a valid URL.", code="invalid_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AppError("'url' must start with http:// or https:// and name a host.",
                       code="invalid_url")
    if parts.username or parts.password:
        raise AppError("'url' must not carry a user name or password.", code="invalid_url")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(f"'{parts.hostname}' does not resolve.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    refused = [str(a) for a in addresses if not allowed(a)]
    if refused or not addresses:
        raise TargetRefused(
            f"'{parts.hostname}' resolves to {', '.join(refused) or 'nothing'}: not a public "
            "address (WEBHOOK_ALLOWED_NETWORKS may allow a network).")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))
