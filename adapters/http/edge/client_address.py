"""The address of the client behind a request: the connection's, or behind trusted proxies the
last address that they did not add themselves to X-Forwarded-For."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from litestar import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


class ClientAddresses:
    def __init__(self, trusted_proxies: Sequence[Network] = ()) -> None:
        self._trusted = tuple(trusted_proxies)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)

    def of(self, request: Request[Any, Any, Any]) -> str:
        peer = request.client.host if request.client else "unknown"
        return self.behind(peer, lambda: request.headers.get("x-forwarded-for", ""))

    def behind(self, peer: str, forwarded_for: Callable[[], str]) -> str:
        """The client behind the connection from ``peer``; ``forwarded_for`` reads X-Forwarded-For when needed."""
        if not self._trusted or not self._is_trusted(peer):
            # Anyone can write X-Forwarded-For; only believe it from our own proxies.
            return peer
        forwarded = [part.strip() for part in forwarded_for().split(",") if part.strip()]
        for address in reversed(forwarded):
            if not self._is_trusted(address):
                return address
        return peer
