"""The image pipeline: only real JPEG, PNG and WebP images get through, re-encoded and stripped."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from adapters.photos.images import PillowImageProcessor, prepare_photo
from application.customers.photo_rules import (
    JPEG,
    PNG,
    WEBP,
    PhotoLimits,
    PhotoTooLarge,
    UnreadableImage,
    UnsupportedImage,
)
from application.ports.photos import PreparedPhoto
from domain.errors import InvalidInput

from . import samples

LIMITS = PhotoLimits()
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def processor() -> PillowImageProcessor:
    return PillowImageProcessor(LIMITS)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def is_reddish(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 200 and pixel[2] < 60


def is_bluish(pixel: tuple[int, ...]) -> bool:
    return pixel[2] > 200 and pixel[0] < 60


# --- good images -------------------------------------------------------------------------------


async def test_jpeg_metadata_is_gone_from_the_stored_bytes(processor: PillowImageProcessor) -> None:
    original = samples.jpeg_with_metadata()
    # The sample really carries what must disappear.
    for marker in (b"Exif", b"SpyCam", b"Secret Photographer", samples.COMMENT, b"ICC_PROFILE"):
        assert marker in original

    photo = await processor.prepare(original)

    assert photo.content_type == JPEG
    for stored in (photo.image, photo.thumbnail):
        for marker in (b"Exif", b"SpyCam", b"Secret Photographer", b"xmpmeta", samples.COMMENT, b"ICC_PROFILE"):
            assert marker not in stored
        image = opened(stored)
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not image.getexif().get_ifd(0x8825)  # GPS
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)


async def test_exif_orientation_is_applied(processor: PillowImageProcessor) -> None:
    # 400 x 200, left half red; orientation 6 means "turn 90 degrees clockwise to show".
    photo = await processor.prepare(samples.jpeg_with_metadata((400, 200), orientation=6))

    image = opened(photo.image).convert("RGB")
    assert image.size == (200, 400)
    assert is_reddish(image.getpixel((100, 50)))  # type: ignore[arg-type]
    assert is_bluish(image.getpixel((100, 350)))  # type: ignore[arg-type]


async def test_thumbnail_fits_the_configured_square(processor: PillowImageProcessor) -> None:
    photo = await processor.prepare(samples.encode(samples.two_colour((1200, 800)), "JPEG"))

    thumbnail = opened(photo.thumbnail)
    assert thumbnail.size == (256, 171)
    assert opened(photo.image).size == (1200, 800)


async def test_small_images_are_not_enlarged(processor: PillowImageProcessor) -> None:
    photo = await processor.prepare(samples.encode(samples.two_colour((100, 40)), "PNG"))

    assert opened(photo.image).size == (100, 40)
    assert opened(photo.thumbnail).size == (100, 40)


async def test_large_images_are_scaled_down_to_the_kept_size(processor: PillowImageProcessor) -> None:
    big = samples.encode(samples.two_colour((6000, 4000)), "JPEG", quality=80)

    photo = await processor.prepare(big)

    assert opened(photo.image).size == (2048, 1365)
    assert max(opened(photo.thumbnail).size) == 256


@pytest.mark.parametrize(
    ("fmt", "mode", "content_type", "stored_mode"),
    [
        ("PNG", "RGBA", PNG, "RGBA"),
        ("PNG", "RGB", PNG, "RGB"),
        ("WEBP", "RGBA", WEBP, "RGBA"),
        ("WEBP", "RGB", WEBP, "RGB"),
        ("JPEG", "RGB", JPEG, "RGB"),
    ],
)
async def test_formats_and_transparency_are_kept(
    processor: PillowImageProcessor, fmt: str, mode: str, content_type: str, stored_mode: str
) -> None:
    photo = await processor.prepare(samples.encode(samples.two_colour((300, 200), mode), fmt))

    assert photo.content_type == content_type
    assert opened(photo.image).mode == stored_mode
    assert opened(photo.image).format == fmt


async def test_png_text_and_icc_chunks_are_dropped(processor: PillowImageProcessor) -> None:
    from PIL import ImageCms, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Photographer")
    info.add_itxt("XML:com.adobe.xmp", samples.XMP.decode())
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = samples.encode(samples.two_colour((60, 40)), "PNG", pnginfo=info, icc_profile=icc)
    assert b"Secret Photographer" in original

    photo = await processor.prepare(original)

    assert b"Secret Photographer" not in photo.image
    assert b"iCCP" not in photo.image
    assert b"tEXt" not in photo.image
    assert b"iTXt" not in photo.image


async def test_a_broken_colour_profile_does_not_spoil_the_upload(processor: PillowImageProcessor) -> None:
    original = samples.encode(samples.two_colour((60, 40)), "PNG", icc_profile=b"not really a colour profile")

    photo = await processor.prepare(original)

    assert b"iCCP" not in photo.image
    assert is_reddish(opened(photo.image).convert("RGB").getpixel((5, 5)))  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["L", "LA", "CMYK", "1"])
async def test_other_pixel_modes_are_normalised(processor: PillowImageProcessor, mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    photo = await processor.prepare(samples.encode(samples.two_colour((60, 40)).convert(mode), fmt))

    assert opened(photo.image).mode == ("RGBA" if mode == "LA" else "RGB")


async def test_palette_png_with_transparency_becomes_rgba(processor: PillowImageProcessor) -> None:
    image = samples.two_colour((50, 50)).convert("P")
    photo = await processor.prepare(samples.encode(image, "PNG", transparency=0))

    assert opened(photo.image).mode == "RGBA"


async def test_sixteen_bit_greyscale_is_scaled_not_clipped(processor: PillowImageProcessor) -> None:
    image = Image.new("I;16", (40, 40), 32768)  # mid grey
    photo = await processor.prepare(samples.encode(image, "PNG"))

    value = opened(photo.image).convert("L").getpixel((10, 10))
    assert isinstance(value, int)
    assert 100 < value < 160


async def test_png_with_trailing_html_is_re_encoded_without_it(processor: PillowImageProcessor) -> None:
    polyglot = samples.encode(samples.two_colour((80, 60)), "PNG") + samples.HTML

    photo = await processor.prepare(polyglot)

    assert photo.content_type == PNG
    assert b"<script" not in photo.image
    assert b"<html" not in photo.image
    assert b"<script" not in photo.thumbnail


async def test_html_in_a_jpeg_comment_is_dropped(processor: PillowImageProcessor) -> None:
    original = samples.encode(samples.two_colour((80, 60)), "JPEG", comment=samples.HTML)
    assert b"<script" in original

    photo = await processor.prepare(original)

    assert b"<script" not in photo.image


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(samples.SVG_WITH_SCRIPT, id="svg-with-script"),
        pytest.param(samples.SVG_PLAIN, id="svg"),
        pytest.param(samples.HTML, id="html"),
        pytest.param(samples.PDF, id="pdf"),
        pytest.param(samples.GIF_HTML_POLYGLOT, id="gif-html-polyglot"),
        pytest.param(samples.encode(samples.noise((30, 20)), "GIF"), id="gif"),
        pytest.param(samples.encode(samples.noise((30, 20)), "BMP"), id="bmp"),
        pytest.param(samples.encode(samples.noise((30, 20)), "TIFF"), id="tiff"),
        pytest.param(b"plain text, not an image at all", id="text"),
    ],
)
async def test_anything_but_jpeg_png_webp_is_unsupported(processor: PillowImageProcessor, data: bytes) -> None:
    with pytest.raises(UnsupportedImage):
        await processor.prepare(data)


async def test_jpeg_signature_followed_by_html_is_refused(processor: PillowImageProcessor) -> None:
    # Either answer is a clear refusal (415 or 422); what matters is that nothing is produced.
    with pytest.raises((UnsupportedImage, UnreadableImage)):
        await processor.prepare(samples.JPEG_HTML_POLYGLOT)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
async def test_truncated_images_are_unreadable(processor: PillowImageProcessor, fmt: str) -> None:
    whole = samples.encode(samples.noise((400, 300)), fmt)

    with pytest.raises(UnreadableImage) as caught:
        await processor.prepare(whole[: len(whole) // 2])

    assert isinstance(caught.value, InvalidInput)  # -> 422
    assert caught.value.problems[0].field == "file"


async def test_empty_upload_is_unreadable(processor: PillowImageProcessor) -> None:
    with pytest.raises(UnreadableImage, match="empty"):
        await processor.prepare(b"")


async def test_more_bytes_than_allowed_is_too_large() -> None:
    small = PhotoLimits(max_bytes=1000)
    with pytest.raises(PhotoTooLarge):
        prepare_photo(samples.encode(samples.noise((100, 100)), "PNG"), small)


# As in production, where the processor makes Pillow's warning an error (pytest resets filters per test).
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("header-30000x30000", lambda: samples.png_header_only(30_000, 30_000)),
        ("zip-bomb-20000x20000", lambda: samples.png_bomb(20_000, 20_000)),
        ("zip-bomb-just-over-the-limit", lambda: samples.png_bomb(7_000, 7_000)),
    ],
)
async def test_decompression_bombs_are_refused_fast(processor: PillowImageProcessor, name: str, make: object) -> None:
    assert callable(make)
    data: bytes = make()
    assert len(data) < LIMITS.max_bytes

    started = time.perf_counter()
    with pytest.raises(UnreadableImage, match="pixels"):
        await processor.prepare(data)
    assert time.perf_counter() - started < 1.0


def test_pixel_limit_is_checked_from_the_header_before_decoding() -> None:
    # Below Pillow's own guard: our check alone refuses it.
    with pytest.raises(UnreadableImage, match="more than 10000 pixels"):
        prepare_photo(samples.encode(samples.two_colour((200, 100)), "PNG"), PhotoLimits(max_pixels=10_000))


def test_decompression_bombs_are_refused_with_bounded_memory(tmp_path: Path) -> None:
    """In a fresh process, so that its peak memory says something: decoding either bomb would take
    gigabytes (30000 x 30000 RGB is 2.7 GB), refusing it takes the interpreter plus Pillow."""
    bombs = {"header": samples.png_header_only(30_000, 30_000), "bomb": samples.png_bomb(20_000, 20_000)}
    for name, data in bombs.items():
        (tmp_path / name).write_bytes(data)
    script = """
import json, pathlib, resource, sys, time
from adapters.photos.images import PillowImageProcessor
from application.customers.photo_rules import PhotoLimits, UnreadableImage
processor = PillowImageProcessor(PhotoLimits())
folder = pathlib.Path(sys.argv[1])
inputs = {name: (folder / name).read_bytes() for name in ("header", "bomb")}
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = {}
for name, data in inputs.items():
    started = time.perf_counter()
    try:
        processor.prepare_now(data)
        results[name] = "accepted"
    except UnreadableImage as error:
        results[name] = error.detail
    results[name + "_seconds"] = time.perf_counter() - started
results["baseline_kib"] = baseline
results["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(results))
"""
    answer = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    results = json.loads(answer.stdout)
    assert "pixels" in results["header"]
    assert "pixels" in results["bomb"]
    assert results["header_seconds"] < 1.0
    assert results["bomb_seconds"] < 1.0
    # Decoding would cost at least 400 MB (one byte a pixel for the bomb); refusing costs nothing to speak of.
    assert results["peak_kib"] - results["baseline_kib"] < 32 * 1024, results


# --- off the event loop ------------------------------------------------------------------------


async def test_image_work_runs_in_worker_threads(
    processor: PillowImageProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    seen: list[str] = []
    real = PillowImageProcessor.prepare_now

    def spy(self: PillowImageProcessor, data: bytes) -> PreparedPhoto:
        seen.append(threading.current_thread().name)
        return real(self, data)

    monkeypatch.setattr(PillowImageProcessor, "prepare_now", spy)
    await processor.prepare(samples.encode(samples.two_colour((50, 50)), "PNG"))

    assert seen
    assert seen[0] != threading.main_thread().name


@pytest.mark.timing
async def test_event_loop_stays_responsive_while_images_are_processed(processor: PillowImageProcessor) -> None:
    big = samples.encode(samples.noise((1200, 1000)), "PNG")
    assert len(big) < LIMITS.max_bytes
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(*(processor.prepare(big) for _ in range(4)))
    elapsed = time.perf_counter() - started
    done.set()
    await ticking

    assert elapsed > 0.2  # real work happened...
    assert max(gaps) < 0.1  # ...and the loop kept ticking meanwhile
