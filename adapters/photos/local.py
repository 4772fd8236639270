"""Photo storage in a local folder: the embedded default, for development and single-machine use.

Objects are files named by their key under the folder; they are written to a temporary file in the
same directory, flushed to disk and renamed over the target, so a reader never sees half a photo.
Keys are checked against a strict alphabet (``a-z 0-9 - /``, no empty segments) before they touch a
path, so no key can leave the folder.

URLs point at the service itself: ``{base_url}/{key}?expires=…&type=…&signature=…`` (see
``signing.UrlSigner``). The content type travels in the signed URL, so no sidecar file is needed; the
route that serves them calls ``LocalPhotoStorage.serve`` and sends ``ServedPhoto.headers``.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from adapters.photos.signing import UrlSigner
from application.customers.photo_rules import PHOTO_CONTENT_TYPES
from application.ports.photos import PhotoStorage, StoredObject
from domain.errors import NotFound, PermissionDenied, ServiceUnavailable

_KEY_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9-]*(?:/[a-z0-9][a-z0-9-]*)*")
_MAX_KEY_LENGTH: Final = 200
_TEMP_PREFIX: Final = ".tmp-"
_STALE_TEMP_SECONDS: Final = 3600
UNAVAILABLE = "The photo storage is not available; try again later."
BAD_LINK = "The photo link is invalid or has expired."
NO_PHOTO = "No such photo."


def is_valid_key(key: str) -> bool:
    return len(key) <= _MAX_KEY_LENGTH and _KEY_PATTERN.fullmatch(key) is not None


@dataclass(frozen=True, slots=True)
class ServedPhoto:
    data: bytes
    content_type: str
    # Seconds until the URL's signature expires: caches must not keep the response any longer.
    max_age: int

    @property
    def headers(self) -> dict[str, str]:
        """The response headers for this photo, apart from the length."""
        return {
            "Content-Type": self.content_type,
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
            "Cache-Control": f"private, max-age={self.max_age}",
            # An image needs nothing else; should it ever be opened as a document, it can do nothing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            # The frontend loads photos from its own origin through <img>.
            "Cross-Origin-Resource-Policy": "cross-origin",
        }


class LocalPhotoStorage(PhotoStorage):
    def __init__(self, folder: Path, signer: UrlSigner, base_url: str) -> None:
        self._root = folder
        self._signer = signer
        self._base_url = base_url.rstrip("/")

    @property
    def folder(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        if not is_valid_key(key):
            raise ValueError(f"not a valid photo key: {key!r}")
        return self._root.joinpath(*key.split("/"))

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        _check_content_type(content_type)
        path = self._path(key)
        try:
            await asyncio.to_thread(_write_atomically, path, data)
        except OSError as error:
            raise ServiceUnavailable(UNAVAILABLE) from error

    async def delete(self, keys: Sequence[str]) -> None:
        paths = [self._path(key) for key in keys]
        try:
            await asyncio.to_thread(_unlink_all, paths)
        except OSError as error:
            raise ServiceUnavailable(UNAVAILABLE) from error

    async def url_for(self, key: str, content_type: str) -> str:
        _check_content_type(content_type)
        self._path(key)
        return f"{self._base_url}/{key}?{self._signer.sign(key, content_type).encode()}"

    async def check(self) -> None:
        try:
            await asyncio.to_thread(_probe, self._root)
        except OSError as error:
            raise ServiceUnavailable(UNAVAILABLE) from error

    async def list_keys(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        try:
            found = await asyncio.to_thread(_walk, self._root)
        except OSError as error:
            raise ServiceUnavailable(UNAVAILABLE) from error
        for item in found:
            if item.key.startswith(prefix):
                yield item

    async def read(self, key: str) -> bytes | None:
        """The stored bytes, or None when there is no such object (or the key is not one of ours)."""
        if not is_valid_key(key):
            return None
        try:
            return await asyncio.to_thread(self._path(key).read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as error:
            raise ServiceUnavailable(UNAVAILABLE) from error

    async def serve(self, key: str, expires: str, content_type: str, signature: str) -> ServedPhoto:
        """What the photo route answers for ``GET {base_url}/{key}?expires=&type=&signature=``.

        A bad, tampered or expired signature raises ``PermissionDenied`` (403); a validly signed URL
        of an object that is gone raises ``NotFound`` (404).
        """
        if content_type not in PHOTO_CONTENT_TYPES or not self._signer.verify(key, content_type, expires, signature):
            raise PermissionDenied(BAD_LINK)
        data = await self.read(key)
        if data is None:
            raise NotFound(NO_PHOTO)
        return ServedPhoto(data, content_type, self._signer.seconds_left(expires))


def _check_content_type(content_type: str) -> None:
    if content_type not in PHOTO_CONTENT_TYPES:
        raise ValueError(f"not a photo content type: {content_type!r}")


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _unlink_all(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _probe(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=root, prefix=_TEMP_PREFIX)
    os.close(descriptor)
    Path(temporary).unlink()


def _walk(root: Path) -> list[StoredObject]:
    if not root.exists():
        return []  # nothing stored yet
    if not root.is_dir():
        raise NotADirectoryError(root)
    found: list[StoredObject] = []
    stale_before = time.time() - _STALE_TEMP_SECONDS
    for directory, folders, files in os.walk(root):
        folders[:] = [name for name in folders if not name.startswith(".")]
        base = Path(directory)
        for name in files:
            path = base / name
            try:
                modified = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if name.startswith(_TEMP_PREFIX):
                # Left behind by a crash in the middle of a write.
                if modified < stale_before:
                    path.unlink(missing_ok=True)
                continue
            key = path.relative_to(root).as_posix()
            if is_valid_key(key):
                found.append(StoredObject(key, datetime.fromtimestamp(modified, UTC)))
    return found
