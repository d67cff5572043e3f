"""Where a webhook may be sent: no private, loopback, link-local or reserved target.

A URL names a host; the host is resolved, every address it resolves to is
checked, and the connection goes to a checked address (``transport``), never
to the name again, so a DNS answer that changes between check and connect
(DNS rebinding) cannot point a delivery at the inside of the network. The
setting ``webhook_allow_private_targets`` lifts the check (tests' loopback
receivers, a deployment whose receivers live on its own network).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from keyholder.errors import InvalidInput

# host, port -> the addresses it resolves to (a test passes its own: no network)
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_LENGTH = 2000


class TargetRefused(Exception):
    """The URL may not be delivered to; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as in the URL: the Host header and the TLS server name
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked address the connection goes to


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL; InvalidInput when it is not one."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"a webhook URL is at most {MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise InvalidInput("a webhook URL cannot hold spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise InvalidInput("a webhook URL must start with https:// (or http://)")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("a webhook URL cannot hold credentials: sign with the secret instead")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("a webhook URL's port must be 1-65535") from None
    if not parts.hostname:
        raise InvalidInput("a webhook URL needs a host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def address_refusal(address: str) -> str | None:
    """Why ``address`` may not be a webhook target, or None when it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone says nothing here
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 reaches 10.0.0.1
    if ip.is_loopback:
        return f"{address} is a loopback address"
    if ip.is_link_local:
        return f"{address} is a link-local address (cloud metadata lives there)"
    if ip.is_private:
        return f"{address} is a private address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return f"{address} is not a public address"
    return None


# An operator trying webhooks on their own machine needs to know the way out.
_ALLOW_HINT = (
    " (set KEYHOLDER_WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow private and loopback targets)"
)


def check_url(url: str, *, allow_private: bool) -> None:
    """The checks that need no DNS (when an endpoint is added): syntax, literal addresses."""
    _, host, _, _ = parse_url(url)
    if allow_private:
        return
    if host.lower().rstrip(".") in {"localhost", "localhost.localdomain"} or host.lower().endswith(
        ".localhost"
    ):
        raise InvalidInput(f"webhook target refused: {host} is this machine{_ALLOW_HINT}")
    try:
        reason = address_refusal(host)
    except ValueError:
        return  # a name: checked with its addresses at each delivery
    if reason is not None:
        raise InvalidInput(f"webhook target refused: {reason}{_ALLOW_HINT}")


def resolve_target(url: str, *, allow_private: bool, resolve: Resolver) -> Target:
    """The target to connect to; TargetRefused when any address is not allowed."""
    try:
        scheme, host, port, path = parse_url(url)
    except InvalidInput as exc:
        raise TargetRefused(exc.detail) from None
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = list(resolve(host, port))
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise TargetRefused(f"{host} resolves to no address")
    if not allow_private:
        # Every address, not only the first: a name with one public and one
        # private address would otherwise reach the private one on a retry.
        for address in addresses:
            if (reason := address_refusal(address)) is not None:
                raise TargetRefused(f"{host}: {reason}")
    return Target(scheme, host, port, path, addresses[0])
