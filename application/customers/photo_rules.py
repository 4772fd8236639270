"""Customer photos: their limits, keys and errors (the storage and image ports are in ``application.ports.photos``).

A photo is two stored objects, the image and its thumbnail, under random keys that reveal nothing
about the customer or the uploaded file. The row that points at them and the objects themselves
live in different systems, so the use cases keep them consistent by ordering: write the new
objects first, commit the row, then delete the objects that are no longer referenced. Whatever a
failure leaves behind is an unreferenced object, which the orphan sweep removes later.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from domain.customers import Photo
from domain.errors import ContentTooLarge, FieldProblem, InvalidInput, UnsupportedContent

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
# The only content types that are ever stored, signed or served.
PHOTO_CONTENT_TYPES = frozenset({JPEG, PNG, WEBP})

# Every photo object lives under this key prefix, so that the sweep never touches anything else
# that shares the bucket or folder.
PHOTO_KEY_PREFIX = "photos/"
THUMBNAIL_SUFFIX = "-thumb"

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    # Largest upload accepted, in bytes (the HTTP adapter enforces it while streaming, too).
    max_bytes: int = 5 * MiB
    # Largest width x height accepted, read from the image header before anything is decoded.
    max_pixels: int = 40_000_000
    # The stored image is scaled down to fit in a square of this side; photos in a CRM need no more.
    max_dimension: int = 2048
    # The thumbnail fits in a square of this side.
    thumbnail_size: int = 256

    def __post_init__(self) -> None:
        if min(self.max_bytes, self.max_pixels, self.max_dimension, self.thumbnail_size) < 1:
            raise ValueError("photo limits must be positive")


class UnsupportedImage(UnsupportedContent):
    """The bytes are not a JPEG, PNG or WebP image, whatever their name or declared type (415)."""


class UnreadableImage(InvalidInput):
    """The bytes claim to be a supported image but cannot be decoded safely: empty, truncated,
    corrupt, or more pixels than allowed (a decompression bomb) (422)."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__([FieldProblem(field, message)])


class PhotoTooLarge(ContentTooLarge):
    """The upload is bigger than ``PhotoLimits.max_bytes`` (413)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"The photo must be at most {max_bytes} bytes.")
        self.max_bytes = max_bytes


def new_photo_keys() -> tuple[str, str]:
    """Fresh keys for an image and its thumbnail: 128 random bits, nothing else."""
    token = secrets.token_hex(16)
    return f"{PHOTO_KEY_PREFIX}{token}", f"{PHOTO_KEY_PREFIX}{token}{THUMBNAIL_SUFFIX}"


def new_photo(content_type: str) -> Photo:
    """A ``Photo`` with fresh keys, for a prepared image of ``content_type``."""
    if content_type not in PHOTO_CONTENT_TYPES:
        raise ValueError(f"not a photo content type: {content_type!r}")
    key, thumbnail_key = new_photo_keys()
    return Photo(key=key, thumbnail_key=thumbnail_key, content_type=content_type)


def photo_keys(photo: Photo | None) -> list[str]:
    """The stored objects of a photo, e.g. to delete them after the row stopped pointing at them."""
    return [] if photo is None else [photo.key, photo.thumbnail_key]
