"""Photo storage in a dict: a fake for tests, with the same contract as the real adapters.

It can be told to fail (``fail_next``, ``down``), the way a real store fails: the operation raises
``ServiceUnavailable`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import parse_qs, quote, urlsplit

from application.customers.photo_rules import PHOTO_CONTENT_TYPES
from application.ports.photos import PhotoStorage, StoredObject
from application.ports.system import Clock
from domain.errors import ServiceUnavailable

OPERATIONS: Final = frozenset({"put", "delete", "url_for", "check", "list_keys"})


@dataclass(frozen=True, slots=True)
class MemoryObject:
    data: bytes
    content_type: str
    last_modified: datetime


class InMemoryPhotoStorage(PhotoStorage):
    def __init__(self, clock: Clock | None = None, base_url: str = "https://photos.test") -> None:
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self._objects: dict[str, MemoryObject] = {}
        self._failures: dict[str, int] = {}
        # While True, every operation fails, as if the store were unreachable.
        self.down = False

    # --- the fake's own features, for tests ------------------------------------------------

    def fail_next(self, operation: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` (put, delete, url_for, check, list_keys) fail."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {sorted(OPERATIONS)}")
        self._failures[operation] = self._failures.get(operation, 0) + times

    def get(self, key: str) -> MemoryObject | None:
        return self._objects.get(key)

    def object_at(self, url: str) -> MemoryObject | None:
        """The object that a URL from ``url_for`` shows, or None (like a 404 or 403 from a real store)."""
        parts = urlsplit(url)
        prefix = urlsplit(self._base_url).path.rstrip("/") + "/"
        if not parts.path.startswith(prefix):
            return None
        stored = self._objects.get(parts.path[len(prefix) :])
        content_type = parse_qs(parts.query).get("type", [""])[0]
        return stored if stored is not None and stored.content_type == content_type else None

    @property
    def keys(self) -> set[str]:
        return set(self._objects)

    def clear(self) -> None:
        self._objects.clear()

    # --- the port ------------------------------------------------------------------------------

    def _maybe_fail(self, operation: str) -> None:
        if self.down:
            raise ServiceUnavailable("The photo storage is down (simulated).")
        remaining = self._failures.get(operation, 0)
        if remaining:
            self._failures[operation] = remaining - 1
            raise ServiceUnavailable(f"The photo storage failed to {operation} (simulated).")

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        _check(key, content_type)
        self._maybe_fail("put")
        self._objects[key] = MemoryObject(bytes(data), content_type, self._now())

    async def delete(self, keys: Sequence[str]) -> None:
        self._maybe_fail("delete")
        for key in keys:
            self._objects.pop(key, None)

    async def url_for(self, key: str, content_type: str) -> str:
        _check(key, content_type)
        self._maybe_fail("url_for")
        return f"{self._base_url}/{key}?type={quote(content_type, safe='')}"

    async def check(self) -> None:
        self._maybe_fail("check")

    async def list_keys(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        self._maybe_fail("list_keys")
        snapshot = [(key, item.last_modified) for key, item in self._objects.items() if key.startswith(prefix)]
        for key, modified in snapshot:
            yield StoredObject(key, modified)


def _check(key: str, content_type: str) -> None:
    if not key or key.startswith("/"):
        raise ValueError(f"not a photo key: {key!r}")
    if content_type not in PHOTO_CONTENT_TYPES:
        raise ValueError(f"not a photo content type: {content_type!r}")
