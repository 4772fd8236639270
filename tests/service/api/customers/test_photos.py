"""Customer photos through the API, on local storage: upload, fetch without a token, replace, remove."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
from PIL import Image

from tests.service.api.helpers import SignedIn, assert_problem

PHOTO_URL = "/api/v1/customers/C-1/photo"


def image_bytes(kind: str = "JPEG", size: tuple[int, int] = (640, 480), *, gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # camera make
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}
    buffer = io.BytesIO()
    if kind == "JPEG":
        image.save(buffer, kind, exif=exif.tobytes())
    else:
        image.save(buffer, kind)
    return buffer.getvalue()


def stored_files(photo_dir: Path) -> list[Path]:
    return sorted(path for path in photo_dir.rglob("*") if path.is_file() and not path.name.startswith("."))


def new_customer(user: SignedIn) -> None:
    assert user.post("/api/v1/customers", json={"id": "C-1", "name": "Ada", "surname": "Lovelace"}).status_code == 201


def test_upload_as_multipart_then_load_it_without_a_token(
    clerk: SignedIn, client: httpx.Client, photo_dir: Path
) -> None:
    new_customer(clerk)
    files = {"file": ("../../etc/passwd\r\nX-Injected: 1.jpg", image_bytes(gps=True), "image/jpeg")}
    response = clerk.put(PHOTO_URL, files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    assert body["updated_by"]["id"] == clerk.user_id
    assert body["photo_url"] and body["photo_thumbnail_url"]
    assert "passwd" not in body["photo_url"] and "C-1" not in body["photo_url"]

    photo = httpx.get(body["photo_url"])  # an <img> tag sends no Authorization header
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["x-content-type-options"] == "nosniff"
    assert photo.headers["content-disposition"] == "inline"
    assert "max-age" in photo.headers["cache-control"]
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.format == "JPEG" and stored.size == (640, 480)
    assert not stored.getexif()
    assert b"SpyCam" not in photo.content
    thumbnail = Image.open(io.BytesIO(httpx.get(body["photo_thumbnail_url"]).content))
    assert max(thumbnail.size) <= 256
    assert len(stored_files(photo_dir)) == 2
    assert clerk.get("/api/v1/customers/C-1").json()["photo_url"] is not None


def test_a_tampered_photo_url_is_403(clerk: SignedIn) -> None:
    new_customer(clerk)
    url = clerk.put(PHOTO_URL, content=image_bytes("PNG"), headers={"Content-Type": "image/png"}).json()["photo_url"]
    assert httpx.get(url.replace("signature=", "signature=AA")).status_code == 403
    assert httpx.get(url.replace("type=image%2Fpng", "type=image%2Fjpeg")).status_code == 403


def test_replacing_and_removing_a_photo_removes_the_old_objects(clerk: SignedIn, photo_dir: Path) -> None:
    new_customer(clerk)
    first = clerk.put(PHOTO_URL, content=image_bytes("PNG"), headers={"Content-Type": "image/png"}).json()
    before = stored_files(photo_dir)
    second = clerk.put(PHOTO_URL, files={"file": ("a.webp", image_bytes("WEBP"), "image/webp")}).json()
    assert second["photo_url"] != first["photo_url"]
    after = stored_files(photo_dir)
    assert len(after) == 2 and not set(before) & set(after)
    assert httpx.get(first["photo_url"]).status_code == 404
    assert clerk.delete(PHOTO_URL).status_code == 204
    assert stored_files(photo_dir) == []
    customer = clerk.get("/api/v1/customers/C-1").json()
    assert customer["photo_url"] is None and customer["photo_thumbnail_url"] is None
    assert customer["version"] == 4


def test_the_trash_keeps_the_photo_and_erasing_the_customer_deletes_it(
    clerk: SignedIn, admin: SignedIn, photo_dir: Path
) -> None:
    new_customer(clerk)
    clerk.put(PHOTO_URL, content=image_bytes(), headers={"Content-Type": "image/jpeg"})
    assert len(stored_files(photo_dir)) == 2
    assert clerk.delete("/api/v1/customers/C-1").status_code == 204
    assert len(stored_files(photo_dir)) == 2
    assert admin.delete("/api/v1/customers/C-1", params={"erase": "true"}).status_code == 204
    assert stored_files(photo_dir) == []


def test_what_is_not_a_photo_is_refused_and_nothing_is_stored(clerk: SignedIn, photo_dir: Path) -> None:
    new_customer(clerk)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    for payload in (svg, html, pdf):
        response = clerk.put(PHOTO_URL, files={"file": ("photo.jpg", payload, "image/jpeg")})
        assert_problem(response, 415)
    assert_problem(clerk.put(PHOTO_URL, content=image_bytes()[:500], headers={"Content-Type": "image/jpeg"}), 422)
    assert_problem(clerk.put(PHOTO_URL, content=b"", headers={"Content-Type": "image/jpeg"}), 422)
    assert_problem(clerk.put(PHOTO_URL, content=image_bytes(), headers={"Content-Type": "text/plain"}), 415)
    assert_problem(clerk.put(PHOTO_URL, files={"other": ("a.jpg", image_bytes(), "image/jpeg")}), 422, "file")
    assert stored_files(photo_dir) == []
    assert clerk.get("/api/v1/customers/C-1").json()["version"] == 1


def test_uploads_over_the_limit_are_413(clerk: SignedIn, photo_dir: Path) -> None:
    new_customer(clerk)
    big = b"\xff\xd8\xff" + b"\0" * (6 * 1024 * 1024)
    assert_problem(clerk.put(PHOTO_URL, content=big, headers={"Content-Type": "image/jpeg"}), 413)
    assert_problem(clerk.put(PHOTO_URL, files={"file": ("big.jpg", big, "image/jpeg")}), 413)

    def chunks() -> Iterator[bytes]:
        for _ in range(12):
            yield b"\0" * (1024 * 1024)

    streamed = clerk.put(PHOTO_URL, content=chunks(), headers={"Content-Type": "image/jpeg"})
    assert_problem(streamed, 413)
    assert stored_files(photo_dir) == []


def test_a_photo_for_an_unknown_customer_is_404(clerk: SignedIn, photo_dir: Path) -> None:
    assert_problem(
        clerk.put("/api/v1/customers/nobody/photo", content=image_bytes(), headers={"Content-Type": "image/jpeg"}), 404
    )
    assert_problem(clerk.delete("/api/v1/customers/nobody/photo"), 404)
    assert stored_files(photo_dir) == []


async def test_racing_uploads_leave_exactly_one_photo(clerk: SignedIn, base_url: str, photo_dir: Path) -> None:
    new_customer(clerk)

    async def upload(color: int) -> int:
        image = Image.new("RGB", (300, 300), (color, 0, 0))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        async with httpx.AsyncClient(base_url=base_url, headers=clerk.headers) as client:
            response = await client.put(PHOTO_URL, content=buffer.getvalue(), headers={"Content-Type": "image/png"})
            return response.status_code

    assert list(await asyncio.gather(upload(10), upload(200))) == [200, 200]
    customer = clerk.get("/api/v1/customers/C-1").json()
    assert customer["version"] == 3
    assert len(stored_files(photo_dir)) == 2
    assert httpx.get(customer["photo_url"]).status_code == 200


def test_a_photo_url_without_its_signature_or_with_part_of_it_is_403(clerk: SignedIn) -> None:
    """No signature, or only some of expires/type/signature: refused like a bad signature, as problem+json."""
    new_customer(clerk)
    url = clerk.put(PHOTO_URL, content=image_bytes("PNG"), headers={"Content-Type": "image/png"}).json()["photo_url"]
    base, _, query = url.partition("?")
    parts = dict(parse_qsl(query, strict_parsing=True))
    assert set(parts) == {"expires", "type", "signature"}
    assert httpx.get(url).status_code == 200, "the control: the whole URL loads"
    partial = [{}] + [{name: value for name, value in parts.items() if name != left_out} for left_out in parts]
    for kept in partial:
        response = httpx.get(base, params=kept)
        assert_problem(response, 403)
        assert "errors" not in response.json(), response.text
