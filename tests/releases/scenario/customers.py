"""Version 1: customers (create, read, list, search, patch with If-Match, photo, history, delete)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.releases.scenario.access import Person
from tests.releases.scenario.caller import Caller, answer, ids, problem

CUSTOMERS = "/api/v1/customers"
MERGE_PATCH = "application/merge-patch+json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def small_png() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 120, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def created(writer: Caller, reader: Caller, clerk: Person, tag: str) -> tuple[dict[str, Any], str]:
    """Ada, created on ``writer``: the same customer and ETag on ``reader``; returns both."""
    ada = {
        "id": f"ada-{tag}",
        "name": "Ada",
        "surname": "Lovelace",
        "email": f"ada.{tag}@example.com",
        "phone": "+44 20 7946 0000",
        "notes": "Prefers e-mail.",
    }
    response = writer.post(CUSTOMERS, json=ada)
    body = answer(response, 201)
    assert response.headers["location"].endswith(f"{CUSTOMERS}/{ada['id']}"), response.headers
    assert {field: body[field] for field in ada} == ada, body
    assert body["created_by"] == body["updated_by"] == clerk.reference, body
    assert (body["version"], body["photo_url"], body["photo_thumbnail_url"]) == (1, None, None), body
    etag = response.headers["etag"]

    read = reader.get(f"{CUSTOMERS}/{ada['id']}")
    assert answer(read, 200) == body
    assert read.headers["etag"] == etag
    assert reader.get(f"{CUSTOMERS}/{ada['id']}", headers={"If-None-Match": etag}).status_code == 304
    problem(reader.post(CUSTOMERS, json={"id": ada["id"], "name": "Ada", "surname": "Byron"}), 409)
    return body, etag


def listed(writer: Caller, reader: Caller, tag: str, ada: dict[str, Any]) -> None:
    """Grace, created on ``reader``; both listed and searched on either, a page's cursor used on the other."""
    grace = {"id": f"grace-{tag}", "name": "Grace", "surname": "Hopper", "email": f"grace.{tag}@example.com"}
    answer(reader.post(CUSTOMERS, json=grace), 201)

    first = answer(writer.get(CUSTOMERS, params={"q": tag, "sort": "id", "limit": 1}), 200)
    assert ids(first) == [ada["id"]] and first["next_cursor"], first
    second = answer(
        reader.get(CUSTOMERS, params={"q": tag, "sort": "id", "limit": 1, "cursor": first["next_cursor"]}), 200
    )
    assert (ids(second), second["next_cursor"]) == ([grace["id"]], None), second
    assert ids(answer(reader.get(CUSTOMERS, params={"q": tag}), 200)) == [grace["id"], ada["id"]]  # newest first
    assert ids(answer(writer.get(CUSTOMERS, params={"q": f"GRACE.{tag.upper()}"}), 200)) == [grace["id"]]
    problem(reader.get(CUSTOMERS, params={"cursor": "not-a-cursor"}), 400)


def patched(writer: Caller, reader: Caller, clerk: Person, ada: dict[str, Any], etag: str) -> str:
    """A merge patch with If-Match on ``reader``; the stale ETag refused on ``writer``. Returns the new ETag."""
    url = f"{CUSTOMERS}/{ada['id']}"
    response = reader.patch(
        url, json={"phone": None, "notes": "Prefers letters."}, headers={"If-Match": etag, "Content-Type": MERGE_PATCH}
    )
    body = answer(response, 200)
    assert (body["phone"], body["notes"], body["version"]) == (None, "Prefers letters.", 2), body
    assert body["updated_by"] == clerk.reference, body
    new_etag = response.headers["etag"]
    assert new_etag != etag

    problem(writer.patch(url, json={"notes": "Lost update."}, headers={"If-Match": etag}), 412)
    read = writer.get(url)
    assert answer(read, 200) == body, "the refused patch changed nothing"
    assert read.headers["etag"] == new_etag
    return new_etag


def photographed(writer: Caller, reader: Caller, ada: dict[str, Any]) -> None:
    """A PNG uploaded on ``writer``; ``reader`` shows it, and both signed URLs serve an image."""
    url = f"{CUSTOMERS}/{ada['id']}"
    body = answer(writer.put(f"{url}/photo", files={"file": ("ada.png", small_png(), "image/png")}), 200)
    assert body["version"] == 3 and body["photo_url"] and body["photo_thumbnail_url"], body
    shown = answer(reader.get(url), 200)
    assert shown["version"] == 3, shown
    for photo_url in (shown["photo_url"], shown["photo_thumbnail_url"]):
        image = reader.http.get(photo_url)  # signed: no Authorization header
        assert image.status_code == 200, image.text
        assert image.headers["content-type"] == "image/png", image.headers
        assert image.content.startswith(PNG_SIGNATURE)


def history(reader: Caller, clerk: Person, ada: dict[str, Any]) -> None:
    entries = answer(reader.get(f"{CUSTOMERS}/{ada['id']}/history"), 200)["items"]
    assert [entry["kind"] for entry in entries] == ["photo_changed", "updated", "created"], entries
    assert all(entry["actor"] == clerk.reference for entry in entries), entries
    assert entries[0]["changes"] == [{"field": "photo", "old": None, "new": "present"}], entries
    assert sorted(entries[1]["changes"], key=lambda change: change["field"]) == [
        {"field": "notes", "old": "Prefers e-mail.", "new": "Prefers letters."},
        {"field": "phone", "old": "+44 20 7946 0000", "new": None},
    ], entries
    assert {"field": "surname", "old": None, "new": "Lovelace"} in entries[2]["changes"], entries


def deleted(writer: Caller, reader: Caller, tag: str, ada: dict[str, Any], stale_etag: str) -> None:
    """Deleted on ``writer`` with If-Match (after a stale one was refused); gone on ``reader``."""
    url = f"{CUSTOMERS}/{ada['id']}"
    current = reader.get(url).headers["etag"]
    problem(writer.delete(url, headers={"If-Match": stale_etag}), 412)
    assert writer.delete(url, headers={"If-Match": current}).status_code == 204
    problem(reader.get(url), 404)
    assert ids(answer(reader.get(CUSTOMERS, params={"q": tag}), 200)) == [f"grace-{tag}"]


def customers(writer: Caller, reader: Caller, clerk: Person, tag: str) -> None:
    """A clerk's day with ``writer`` and ``reader`` serving the same database (they may be the same server)."""
    ada, etag = created(writer, reader, clerk, tag)
    listed(writer, reader, tag, ada)
    patched_etag = patched(writer, reader, clerk, ada, etag)
    photographed(writer, reader, ada)
    history(reader, clerk, ada)
    deleted(writer, reader, tag, ada, patched_etag)
