"""Making uploaded images safe to show, with Pillow.

The pipeline, in order (each step refuses before the next one costs anything):

1. size: more than ``max_bytes`` -> ``PhotoTooLarge``; nothing -> ``UnreadableImage``;
2. type: Pillow identifies the bytes, trying only the JPEG, PNG and WebP decoders; the file name and
   the declared content type are never consulted -> otherwise ``UnsupportedImage``;
3. pixels: width x height from the header, before any pixel is decoded -> ``UnreadableImage``
   (Pillow's own decompression-bomb guard is lowered to the same limit, and its warning made an error);
4. decode (a truncated or corrupt file -> ``UnreadableImage``; truncated images are never "repaired"),
   JPEGs at a reduced scale when they are far larger than what is kept;
5. apply the EXIF orientation, convert any ICC colour profile to sRGB, normalise the mode (RGB for
   JPEG, RGB or RGBA for PNG and WebP), scale down to ``max_dimension``;
6. re-encode in the same format with no metadata at all (no EXIF, GPS, XMP, ICC, comments, text
   chunks), and make the thumbnail the same way.

Decoding and encoding are CPU-bound: they run in worker threads (Pillow releases the GIL while it
works), at most one per core at a time, so the event loop keeps serving requests.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from adapters.system.cpus import available_cpus
from application.customers.photo_rules import (
    JPEG,
    PNG,
    WEBP,
    PhotoLimits,
    PhotoTooLarge,
    UnreadableImage,
    UnsupportedImage,
)
from application.ports.photos import ImageProcessor, PreparedPhoto
from domain.errors import DomainError

# Pillow format names -> the content type stored. MPO is a JPEG with extra frames (many cameras).
_FORMATS: Final = {"JPEG": JPEG, "MPO": JPEG, "PNG": PNG, "WEBP": WEBP}
_DECODERS: Final = ("JPEG", "PNG", "WEBP")
_SIXTEEN_BIT_MODES: Final = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

UNSUPPORTED = "Only JPEG, PNG and WebP images are accepted."
UNREADABLE = "is not a complete, readable JPEG, PNG or WebP image"


def guard_pillow(max_pixels: int) -> None:
    """Make Pillow's own decompression-bomb guard at least as strict as ours, and fatal.

    Pillow's limit is process-wide; it is only ever lowered here, never raised. Our own check of the
    header's pixel count is what callers rely on: this is the second line of defence.
    """
    if Image.MAX_IMAGE_PIXELS is None or max_pixels < Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


class PillowImageProcessor(ImageProcessor):
    def __init__(
        self,
        limits: PhotoLimits | None = None,
        *,
        concurrency: int | None = None,
        jpeg_quality: int = 85,
        webp_quality: int = 85,
    ) -> None:
        self._limits = limits or PhotoLimits()
        self._slots = asyncio.Semaphore(concurrency or available_cpus())
        self._jpeg_quality = jpeg_quality
        self._webp_quality = webp_quality
        guard_pillow(self._limits.max_pixels)

    @property
    def limits(self) -> PhotoLimits:
        return self._limits

    async def prepare(self, data: bytes) -> PreparedPhoto:
        # Cheap refusals first, on the event loop; the rest in a worker thread.
        _check_size(data, self._limits)
        async with self._slots:
            return await asyncio.to_thread(self.prepare_now, data)

    def prepare_now(self, data: bytes) -> PreparedPhoto:
        """The whole pipeline in the calling thread (for the CLI and tests)."""
        return prepare_photo(data, self._limits, jpeg_quality=self._jpeg_quality, webp_quality=self._webp_quality)


def _check_size(data: bytes, limits: PhotoLimits) -> None:
    if len(data) > limits.max_bytes:
        raise PhotoTooLarge(limits.max_bytes)
    if not data:
        raise UnreadableImage("is empty")


def prepare_photo(data: bytes, limits: PhotoLimits, *, jpeg_quality: int = 85, webp_quality: int = 85) -> PreparedPhoto:
    _check_size(data, limits)
    image = _open(data, limits)
    try:
        with _decoding_errors(limits):
            content_type = _FORMATS[str(image.format)]
            if content_type == JPEG:
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers what is kept.
                image.draft(None, (limits.max_dimension, limits.max_dimension))
            image.load()
            picture = ImageOps.exif_transpose(image)
            picture = _normalise(picture, content_type)
            picture.thumbnail((limits.max_dimension, limits.max_dimension), Image.Resampling.LANCZOS)
            thumbnail = picture.copy()
            thumbnail.thumbnail((limits.thumbnail_size, limits.thumbnail_size), Image.Resampling.LANCZOS)
            return PreparedPhoto(
                image=_encode(picture, content_type, jpeg_quality, webp_quality),
                thumbnail=_encode(thumbnail, content_type, jpeg_quality, webp_quality),
                content_type=content_type,
            )
    finally:
        image.close()


def _open(data: bytes, limits: PhotoLimits) -> Image.Image:
    with _decoding_errors(limits):
        try:
            image = Image.open(io.BytesIO(data), formats=_DECODERS)
        except UnidentifiedImageError as error:
            raise UnsupportedImage(UNSUPPORTED) from error
    width, height = image.size
    if image.format not in _FORMATS:
        image.close()
        raise UnsupportedImage(UNSUPPORTED)
    if width < 1 or height < 1:
        image.close()
        raise UnreadableImage(UNREADABLE)
    if width * height > limits.max_pixels:
        image.close()
        raise _too_many_pixels(limits)
    return image


@contextmanager
def _decoding_errors(limits: PhotoLimits) -> Iterator[None]:
    """What Pillow raises while reading an upload, as the uploader's error: too many pixels, or unreadable.

    Pillow reports damaged data with many exception types (OSError "image file is truncated", SyntaxError,
    ValueError, struct.error, EOFError...): all mean the same to the uploader. Running out of memory is ours.
    """
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(limits) from error
    except (MemoryError, DomainError):
        raise
    except Exception as error:
        raise UnreadableImage(UNREADABLE) from error


def _too_many_pixels(limits: PhotoLimits) -> UnreadableImage:
    return UnreadableImage(f"has more than {limits.max_pixels} pixels")


def _normalise(image: Image.Image, content_type: str) -> Image.Image:
    """RGB for JPEG; RGB or RGBA (when there is transparency) for PNG and WebP; colours in sRGB."""
    keep_alpha = content_type != JPEG and image.has_transparency_data
    target = "RGBA" if keep_alpha else "RGB"
    if image.mode in _SIXTEEN_BIT_MODES:
        # 16-bit greyscale (PNG): scale to 8 bits rather than let conversion clip everything to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P" or (image.mode in ("L", "RGB") and keep_alpha):
        image = image.convert("RGBA" if keep_alpha else "RGB")
    icc_profile = image.info.get("icc_profile")
    if icc_profile and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=target)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # A broken profile: keep the colours as they are.
        if converted is not None:
            image = converted
    if image.mode != target:
        image = image.convert(target)
    return image


def _encode(image: Image.Image, content_type: str, jpeg_quality: int, webp_quality: int) -> bytes:
    # Some encoders read ICC profiles and comments from ``info`` when not told otherwise: empty it,
    # and pass no metadata of our own.
    image.info = {}
    buffer = io.BytesIO()
    if content_type == JPEG:
        image.save(buffer, "JPEG", quality=jpeg_quality, optimize=True)
    elif content_type == PNG:
        image.save(buffer, "PNG", compress_level=6)
    else:
        image.save(buffer, "WEBP", quality=webp_quality, method=4)
    return buffer.getvalue()
