"""Photo ports: where photo objects are stored, and how uploaded images are made safe to show."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class PreparedPhoto:
    """An uploaded image made safe to show: decoded, oriented, stripped of metadata, re-encoded."""

    image: bytes
    thumbnail: bytes
    # One of PHOTO_CONTENT_TYPES; the image and its thumbnail share it.
    content_type: str


class ImageProcessor(ABC):
    @abstractmethod
    async def prepare(self, data: bytes) -> PreparedPhoto:
        """Turn uploaded bytes into a safe image and thumbnail, without blocking the event loop.

        Raise ``PhotoTooLarge``, ``UnsupportedImage`` or ``UnreadableImage``.
        """


class StoredObject(NamedTuple):
    key: str
    last_modified: datetime


class PhotoStorage(ABC):
    """Where photo objects live. Every failure of the store itself is raised as
    ``domain.errors.ServiceUnavailable``, so that callers can answer 503 and leave the row as it was."""

    @abstractmethod
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store the object; after a failure nothing is visible under ``key``."""

    @abstractmethod
    async def delete(self, keys: Sequence[str]) -> None:
        """Remove the objects; keys that are already gone are fine."""

    @abstractmethod
    async def url_for(self, key: str, content_type: str) -> str:
        """A short-lived URL that an ``<img>`` tag can load without an Authorization header."""

    @abstractmethod
    async def check(self) -> None:
        """Readiness: return if the store answers, else raise ``ServiceUnavailable``."""

    @abstractmethod
    def list_keys(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Every stored key that starts with ``prefix``, with its last-modified time (for the sweep)."""
