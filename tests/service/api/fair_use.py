"""Servers of the fair-use tests: the suite's settings with a limit of their own, and callers told apart by the
address a trusted proxy names (so that each test's anonymous caller starts with a whole quota)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from crm.app import create_app
from crm.settings import Settings
from tests.service.api.server import serve_in_thread

_ITEM = re.compile(r'"(\w+)";r=(\d+);t=(\d+)')


@contextmanager
def limited_server(settings: Settings, **changes: Any) -> Iterator[str]:
    """A server of its own with ``changes`` to the suite's settings; it trusts the test as its proxy."""
    changed = settings.replace(trusted_proxies=("127.0.0.1",), **changes)
    with serve_in_thread(lambda url: create_app(changed.replace(public_url=url))) as url:
        yield url


def new_address() -> str:
    """An address no other test's requests come from (the IPv6 documentation prefix, a random host part)."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}"


def client_from(base_url: str, address: str | None = None) -> httpx.Client:
    """A client whose requests come, as far as the server believes its proxy, from ``address``."""
    return httpx.Client(base_url=base_url, timeout=30, headers={"X-Forwarded-For": address or new_address()})


def rate_limit(response: httpx.Response) -> dict[str, tuple[int, int]]:
    """The ``RateLimit`` header as {policy: (r, t)}."""
    return {name: (int(r), int(t)) for name, r, t in _ITEM.findall(response.headers["ratelimit"])}
