"""The HTTP side of webhook deliveries, with protection against server-side request forgery.

A webhook URL names a host; what matters is where a delivery actually goes. Every delivery resolves the name itself,
refuses it when any address it resolves to is not a public one (loopback, private, link-local, unique-local, shared,
cloud metadata ...), and then connects to the checked address, with the name kept for ``Host`` and for TLS (SNI and the
certificate check). So a name that resolves elsewhere between the check and the connection (DNS rebinding) cannot
send a delivery inside. Redirects are not followed, the whole attempt has 10 s, and only the answer's first KiB is read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

import httpx

from application.ports.webhooks import SendResult, WebhookSender
from domain.errors import InvalidInput

ANSWER_BYTES = 1024
TIMEOUT_SECONDS = 10.0
# Cloud metadata services, refused even though some are not in any of the reserved ranges.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address) for address in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254")
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedDestination(Exception):
    """The URL may not receive deliveries."""


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and address not in METADATA_ADDRESSES


class HttpWebhookSender(WebhookSender):
    def __init__(self, *, allow_private: bool, require_https: bool, timeout: float = TIMEOUT_SECONDS) -> None:
        self._allow_private = allow_private
        self._require_https = require_https
        self._timeout = timeout
        # trust_env=False: no proxy from the environment may carry deliveries past the address check.
        self._client = httpx.AsyncClient(follow_redirects=False, timeout=timeout, trust_env=False)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check_destination(self, url: str) -> None:
        try:
            parsed = self._parse(url)
        except RefusedDestination as error:
            raise InvalidInput.single("url", str(error)) from error
        try:
            await self._resolve(parsed)
        except RefusedDestination as error:
            raise InvalidInput.single("url", str(error)) from error
        except OSError:
            # A name that does not resolve here yet may at delivery time; every delivery checks again.
            return

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout):
                parsed = self._parse(url)
                address = (await self._resolve(parsed))[0]
                status, excerpt = await self._post(parsed, address, headers, body)
        except RefusedDestination as error:
            status, excerpt = None, f"refused: {error}"
        except TimeoutError:
            status, excerpt = None, f"no answer within {self._timeout:g} s"
        except (httpx.HTTPError, OSError) as error:
            status, excerpt = None, f"error: {type(error).__name__}: {error}"
        duration_ms = round((time.monotonic() - started) * 1000)
        return SendResult(status, duration_ms, excerpt[:ANSWER_BYTES])

    def _parse(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as error:
            raise RefusedDestination("is not a valid URL") from error
        allowed = ("https",) if self._require_https else ("https", "http")
        if parsed.scheme not in allowed:
            raise RefusedDestination(f"must be an {' or '.join(allowed)} URL")
        if not parsed.host:
            raise RefusedDestination("must name a host")
        if parsed.userinfo:
            raise RefusedDestination("must not hold credentials")
        return parsed

    async def _resolve(self, url: httpx.URL) -> list[IPAddress]:
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(url.host, port, type=socket.SOCK_STREAM)
        except UnicodeError as error:  # an empty or over-long label: no name at all
            raise RefusedDestination("does not name a valid host") from error
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        if not addresses:
            raise OSError(f"{url.host} has no address")
        if not self._allow_private:
            refused = [str(address) for address in addresses if not is_public(address)]
            if refused:
                raise RefusedDestination(f"resolves to an address that is not public ({', '.join(refused)})")
        return addresses

    async def _post(self, url: httpx.URL, address: IPAddress, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        host_header = url.host if url.port is None else f"{url.host}:{url.port}"
        request = self._client.build_request(
            "POST",
            url.copy_with(host=str(address)),
            headers={**headers, "host": host_header, "user-agent": "crm-webhooks/1"},
            content=body,
            extensions={"sni_hostname": url.host},
        )
        response = await self._client.send(request, stream=True)
        try:
            answer = b""
            async for chunk in response.aiter_raw():
                answer += chunk
                if len(answer) >= ANSWER_BYTES:
                    break
        finally:
            await response.aclose()
        return response.status_code, answer[:ANSWER_BYTES].decode("utf-8", "replace")
