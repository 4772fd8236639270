"""What only the local-folder adapter does: its own signed URLs, safe keys, atomic files."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.photos.local import LocalPhotoStorage, ServedPhoto
from adapters.photos.signing import UrlSigner
from application.customers.photo_rules import JPEG, PNG, new_photo_keys
from domain.errors import NotFound, PermissionDenied

from . import samples
from .support import LOCAL_BASE_URL, SIGNING_SECRET, FixedClock

IMAGE = samples.encode(samples.two_colour((40, 30)), "PNG")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def storage(tmp_path: Path, clock: FixedClock) -> LocalPhotoStorage:
    return LocalPhotoStorage(
        tmp_path / "photos", UrlSigner(SIGNING_SECRET, timedelta(minutes=10), clock), LOCAL_BASE_URL
    )


def url_parts(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    assert url.startswith(LOCAL_BASE_URL + "/")
    return parts.path.removeprefix(urlsplit(LOCAL_BASE_URL).path + "/"), {
        name: values[0] for name, values in parse_qs(parts.query).items()
    }


async def serve(storage: LocalPhotoStorage, url: str) -> ServedPhoto:
    key, query = url_parts(url)
    return await storage.serve(key, query["expires"], query["type"], query["signature"])


async def test_a_signed_url_serves_the_photo_with_safe_headers(storage: LocalPhotoStorage) -> None:
    key, _ = new_photo_keys()
    await storage.put(key, IMAGE, PNG)

    served = await serve(storage, await storage.url_for(key, PNG))

    assert served.data == IMAGE
    assert served.headers["Content-Type"] == PNG
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"] == "inline"
    assert served.headers["Cache-Control"] == "private, max-age=600"


async def test_caching_never_outlives_the_signature(storage: LocalPhotoStorage, clock: FixedClock) -> None:
    key, _ = new_photo_keys()
    await storage.put(key, IMAGE, PNG)
    url = await storage.url_for(key, PNG)

    clock.advance(timedelta(minutes=9))
    served = await serve(storage, url)

    assert served.max_age == 60
    assert served.headers["Cache-Control"] == "private, max-age=60"


async def test_an_expired_url_is_forbidden(storage: LocalPhotoStorage, clock: FixedClock) -> None:
    key, _ = new_photo_keys()
    await storage.put(key, IMAGE, PNG)
    url = await storage.url_for(key, PNG)

    clock.advance(timedelta(minutes=10))
    with pytest.raises(PermissionDenied):
        await serve(storage, url)


@pytest.mark.parametrize("change", ["key", "type", "expires", "signature"])
async def test_a_tampered_url_is_forbidden(storage: LocalPhotoStorage, change: str) -> None:
    key, thumbnail_key = new_photo_keys()
    await storage.put(key, IMAGE, PNG)
    await storage.put(thumbnail_key, IMAGE, PNG)
    _, query = url_parts(await storage.url_for(key, PNG))
    values = {"key": key, **query}
    values[change] = {
        "key": thumbnail_key,
        "type": JPEG,
        "expires": str(int(query["expires"]) + 60),
        "signature": query["signature"][:-2] + ("AA" if query["signature"][-2:] != "AA" else "BB"),
    }[change]

    with pytest.raises(PermissionDenied):
        await storage.serve(values["key"], values["expires"], values["type"], values["signature"])


async def test_a_type_we_never_serve_is_forbidden_even_if_signed(storage: LocalPhotoStorage, clock: FixedClock) -> None:
    key, _ = new_photo_keys()
    await storage.put(key, IMAGE, PNG)
    signed = UrlSigner(SIGNING_SECRET, timedelta(minutes=10), clock).sign(key, "text/html")

    with pytest.raises(PermissionDenied):
        await storage.serve(key, str(signed.expires), "text/html", signed.signature)


async def test_a_validly_signed_url_of_a_deleted_photo_is_not_found(storage: LocalPhotoStorage) -> None:
    key, _ = new_photo_keys()
    await storage.put(key, IMAGE, PNG)
    url = await storage.url_for(key, PNG)
    await storage.delete([key])

    with pytest.raises(NotFound):
        await serve(storage, url)


@pytest.mark.parametrize(
    "key",
    [
        "../outside",
        "photos/../../etc/passwd",
        "/etc/passwd",
        "photos//double",
        "photos/",
        "",
        "Photos/Upper",
        "photos/name.jpg",
        "photos/crlf\r\nx",
        "photos/back\\slash",
        "photos/nul\x00",
        "x" * 201,
    ],
)
async def test_keys_cannot_leave_the_folder(storage: LocalPhotoStorage, tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        await storage.put(key, IMAGE, PNG)
    with pytest.raises(ValueError, match="key"):
        await storage.url_for(key, PNG)
    with pytest.raises(ValueError, match="key"):
        await storage.delete([key])
    assert await storage.read(key) is None
    assert not (tmp_path / "outside").exists()


async def test_writes_are_atomic_and_leave_no_temporary_files(storage: LocalPhotoStorage) -> None:
    key, _ = new_photo_keys()
    await storage.put(key, IMAGE, PNG)

    files = sorted(path.relative_to(storage.folder).as_posix() for path in storage.folder.rglob("*"))
    assert files == ["photos", key]
    assert (storage.folder / key).read_bytes() == IMAGE


async def test_stale_temporary_files_are_cleaned_when_listing(storage: LocalPhotoStorage) -> None:
    key, _ = new_photo_keys()
    await storage.put(key, IMAGE, PNG)
    stale = storage.folder / "photos" / ".tmp-crashed"
    fresh = storage.folder / "photos" / ".tmp-writing"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))

    assert [item.key async for item in storage.list_keys()] == [key]
    assert not stale.exists()
    assert fresh.exists()


async def test_an_empty_folder_is_created_on_first_use(tmp_path: Path, clock: FixedClock) -> None:
    folder = tmp_path / "not" / "yet"
    storage = LocalPhotoStorage(folder, UrlSigner(SIGNING_SECRET, timedelta(minutes=1), clock), LOCAL_BASE_URL)

    assert [item async for item in storage.list_keys()] == []
    await storage.check()
    assert folder.is_dir()
