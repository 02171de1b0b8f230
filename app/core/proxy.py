"""The client's address, scheme and host behind a reverse proxy, believed only from that proxy.

werkzeug's ProxyFix takes ``X-Forwarded-For/-Proto/-Host`` from whoever sends them. Behind nginx
that is right, but when the application can also be reached directly (a published port, a
gunicorn bound to every interface), anyone could name a new client address on each request and
so escape the per-address sign-in rate limit and write any address into the audit log.

``TrustedProxyFix`` applies ProxyFix only to requests whose immediate peer (``REMOTE_ADDR``) is
one of the ``TRUSTED_PROXIES``; from any other peer the forwarded headers are dropped and the
peer's own address is the client's. A connection over a unix socket (gunicorn gives it an empty
``REMOTE_ADDR``) comes from a process on the same machine allowed by the socket's file
permissions, and counts as the proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_FORWARDED",
)


def parse_trusted_proxies(value: str) -> tuple[Network, ...]:
    """``TRUSTED_PROXIES``: addresses or networks separated by commas (``127.0.0.1,::1``,
    ``10.0.5.0/24``). Raises ValueError naming a part that is neither."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP address or network: {part!r}") from exc
    return tuple(networks)


def is_trusted_peer(remote_addr: str | None, networks: Iterable[Network]) -> bool:
    """The immediate peer is a trusted proxy: its address is in ``networks``, or it has none
    (a unix socket)."""
    if not remote_addr:
        return True
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class TrustedProxyFix:
    """ProxyFix with ``hops`` proxies for requests from ``trusted`` peers; the forwarded headers
    of any other request are removed before the application sees them."""

    def __init__(self, app: WSGIApplication, *, hops: int, trusted: Iterable[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if is_trusted_peer(environ.get("REMOTE_ADDR"), self.trusted):
            return self.fixed(environ, start_response)
        for name in FORWARDED_HEADERS:
            environ.pop(name, None)
        return self.app(environ, start_response)
