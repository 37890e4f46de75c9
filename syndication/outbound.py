"""Where the server may connect when it pushes to a subscriber or polls an ingest source.

A subscriber's endpoint or a source's URL is typed by an administrator (or comes back in a
redirect): it must not make the server talk to itself, the cloud's metadata service or the
machines of its own network. The host name is resolved at send time and the connection is
made to the address that was checked (a name that resolves elsewhere a second later, DNS
rebinding, changes nothing). Refused: every address that is not globally routable —
loopback, private, link-local (``169.254.169.254``), shared (``100.64.0.0/10``), reserved,
multicast, unspecified, and their IPv4-mapped IPv6 forms — unless it lies in
``SYNDICATION_ALLOWED_NETWORKS`` (a province's own network, CIDR list).

``outbound_address`` is the check; ``guarded_session`` is a ``requests`` session whose every
connection (redirects included) goes through it.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class OutboundRefused(ValueError):
    """The destination resolves to an address the server must not connect to."""


@lru_cache(maxsize=16)
def _networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(n, strict=False) for n in spec)


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _networks(tuple(settings.SYNDICATION_ALLOWED_NETWORKS))):
        return True
    return ip.is_global and not ip.is_multicast


def outbound_address(host: str, port: int) -> tuple:
    """Resolve ``host`` and return the first (family, sockaddr) the server may connect to;
    raise :class:`OutboundRefused` when any address it resolves to is refused (a name that
    also points inward is not trusted) or when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundRefused(f"cannot resolve {host!r}: {exc}") from exc
    if not infos:
        raise OutboundRefused(f"{host!r} resolves to nothing")
    for _family, _type, _proto, _name, sockaddr in infos:
        if not address_allowed(sockaddr[0]):
            raise OutboundRefused(
                f"{host!r} resolves to {sockaddr[0]}, a loopback, private, link-local or "
                "reserved address (SYNDICATION_ALLOWED_NETWORKS allows a network)"
            )
    family, _type, _proto, _name, sockaddr = infos[0]
    return family, sockaddr


def connect(host: str, port: int, *, timeout: float | None) -> socket.socket:
    """A TCP connection to ``host`` made only after :func:`outbound_address` allowed it."""
    family, sockaddr = outbound_address(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return connect(self._dns_host, self.port, timeout=self.timeout)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return connect(self._dns_host, self.port, timeout=self.timeout)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def guarded_session() -> requests.Session:
    """A ``requests`` session that connects only where :func:`outbound_address` allows,
    for the first request and every redirect; environment proxies are ignored (a proxy
    would connect on our behalf, unchecked)."""
    session = requests.Session()
    session.trust_env = False
    adapter = _GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
