"""Export and import over HTTP: files out and in, the round trip to a fresh database, and refused files."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.sql.migrate import upgrade_to_head
from application.access.users import NewUser
from crm.app import create_app
from crm.container import build_container
from domain.sign_in import SYSTEM_OPERATOR
from tests.service.api.conftest import make_settings
from tests.service.api.helpers import PASSWORD, SignedIn, assert_problem, sign_in
from tests.service.api.server import serve_in_thread
from tests.support.database import create_database, drop_database, url_of_database

EXPORT = "/api/v1/customers/export"
IMPORT = "/api/v1/customers/import"
HEADER = "id,name,surname,email,phone,notes,photo_url,created_at,created_by,updated_at,updated_by"
CSV_TYPE = {"Content-Type": "text/csv"}
EDITABLE = ("id", "name", "surname", "email", "phone", "notes")


def _create(user: SignedIn, customer_id: str, **fields: Any) -> None:
    body = {"id": customer_id, "name": "Ada", "surname": "Lovelace", **fields}
    response = user.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text


def _rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body, newline="")))


def _import(user: SignedIn, data: bytes | str, **params: str) -> httpx.Response:
    content = data.encode() if isinstance(data, str) else data
    return user.post(IMPORT, content=content, headers=CSV_TYPE, params=params)


def _all_customers(user: SignedIn) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = user.get("/api/v1/customers", params={"limit": 100, "sort": "id"}).json()["items"]
    return items


def test_the_csv_export_is_an_attachment_with_a_header_row_and_neutralised_formulas(clerk: SignedIn) -> None:
    _create(clerk, "C-1", name='=HYPERLINK("https://evil.example","x")', phone="+44 20 7946 0000")
    _create(clerk, "C-2", name="Grace", surname="Hopper", notes='Line one,\n"quoted" line two', email="g@h.org")
    response = clerk.get(EXPORT, params={"sort": "id"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="customers-\d{8}T\d{6}Z\.csv"', disposition), disposition
    assert response.content.startswith(HEADER.encode() + b"\r\n")
    first, second = _rows(response.text)
    assert first["name"] == '\'=HYPERLINK("https://evil.example","x")'
    assert first["phone"] == "'+44 20 7946 0000"
    assert (first["email"], first["photo_url"], first["created_by"]) == ("", "", "Bob Clerk")
    assert second["notes"] == 'Line one,\n"quoted" line two'
    assert second["created_at"].endswith("Z")


def test_the_export_takes_the_lists_search_and_sort_and_ndjson(clerk: SignedIn) -> None:
    for n, surname in enumerate(["Cole", "Abel", "Bell"]):
        _create(clerk, f"C-{n}", surname=surname)
    by_surname = clerk.get(EXPORT, params={"sort": "-surname"})
    assert [row["surname"] for row in _rows(by_surname.text)] == ["Cole", "Bell", "Abel"]
    searched = clerk.get(EXPORT, params={"q": "cole", "format": "ndjson"})
    assert searched.headers["content-type"].startswith("application/x-ndjson")
    assert searched.headers["content-disposition"].endswith('.ndjson"')
    lines = [json.loads(line) for line in searched.text.splitlines()]
    assert [line["surname"] for line in lines] == ["Cole"]
    assert lines[0] == clerk.get("/api/v1/customers/C-0").json()
    assert_problem(clerk.get(EXPORT, params={"sort": "shoe_size"}), 422)
    assert_problem(clerk.get(EXPORT, params={"format": "xlsx"}), 400)


def _thousand_rows(bad: dict[int, str]) -> str:
    lines = ["ID,Name,Surname,Email"]
    for n in range(1000):
        lines.append(bad.get(n, f"C-{n:04},Ada,Lovelace {n},ada{n}@example.com"))
    return "\r\n".join(lines) + "\r\n"


def test_three_bad_rows_among_a_thousand_are_named_and_nothing_is_written(clerk: SignedIn) -> None:
    bad = {
        10: "C-0010,Ada,Lovelace,not-an-email",
        500: "bad id!,Ada,Lovelace,",
        999: "C-0999,,Lovelace,",
    }
    response = _import(clerk, _thousand_rows(bad))
    assert response.status_code == 422, response.text
    report = response.json()
    assert (report["dry_run"], report["created"]) == (False, 997)
    # The header is row 1, so data row n is file row n + 2.
    assert [(error["row"], error["field"]) for error in report["errors"]] == [
        (12, "email"),
        (502, "id"),
        (1001, "name"),
    ]
    assert all(error["message"] for error in report["errors"])
    assert _all_customers(clerk) == []

    good = _import(clerk, _thousand_rows({}))
    assert good.status_code == 200, good.text
    assert good.json() == {"dry_run": False, "created": 1000, "updated": 0, "unchanged": 0, "errors": []}
    history = clerk.get("/api/v1/customers/C-0500/history").json()["items"]
    assert [entry["kind"] for entry in history] == ["created"]


def test_upsert_dry_run_multipart_bom_and_headers_in_any_case(clerk: SignedIn) -> None:
    _create(clerk, "C-1", email="ada@example.com")
    _create(clerk, "C-2", name="Grace", surname="Hopper")
    body = (
        "\ufeffSURNAME,Id,name,Notes\r\nLovelace,C-1,Ada,Count's daughter\r\nHopper,C-2,Grace,\r\nTuring,C-3,Alan,\r\n"
    )
    dry = _import(clerk, body, mode="upsert", dry_run="true")
    assert dry.json() == {"dry_run": True, "created": 1, "updated": 1, "unchanged": 1, "errors": []}
    assert len(_all_customers(clerk)) == 2

    files = {"file": ("customers.csv", body.encode(), "text/csv")}
    applied = clerk.post(IMPORT, files=files, params={"mode": "upsert"})
    assert applied.status_code == 200, applied.text
    assert applied.json()["updated"] == 1
    ada = clerk.get("/api/v1/customers/C-1").json()
    # Only the file's columns change: the e-mail, not in the file, stays.
    assert (ada["notes"], ada["email"], ada["version"]) == ("Count's daughter", "ada@example.com", 2)
    entry = clerk.get("/api/v1/customers/C-1/history").json()["items"][0]
    assert entry["changes"] == [{"field": "notes", "old": None, "new": "Count's daughter"}]

    again = clerk.post(IMPORT, files=files)  # mode=create: the ids exist now
    assert again.status_code == 422
    assert [(error["row"], error["field"]) for error in again.json()["errors"]] == [(2, "id"), (3, "id"), (4, "id")]


def test_files_that_cannot_be_read_are_refused(clerk: SignedIn) -> None:
    not_utf8 = _import(clerk, "id,name,surname\r\nC-1,Jos\xe9,M\xfcller\r\n".encode("latin-1"))
    assert "UTF-8" in assert_problem(not_utf8, 422, "file")["detail"] + str(not_utf8.json()["errors"])
    assert_problem(_import(clerk, "id,name,surname,shoe_size\r\nC-1,Ada,Lovelace,42\r\n"), 422, "shoe_size")
    assert_problem(_import(clerk, "id,name\r\nC-1,Ada\r\n"), 422, "surname")
    assert_problem(_import(clerk, ""), 422, "file")
    assert_problem(clerk.post(IMPORT, json=[{"id": "C-1"}]), 415)
    assert_problem(clerk.post(IMPORT, files={"other": ("x.csv", b"id,name,surname\r\n", "text/csv")}), 422, "file")
    assert_problem(_import(clerk, "id,name,surname\r\n", mode="merge"), 400)
    too_many = "id,name,surname\r\n" + "".join(f"C-{n},A,B\r\n" for n in range(50_001))
    assert_problem(_import(clerk, too_many), 413)
    too_big = b"id,name,surname,notes\r\n" + b"C-1,A,B," + b"x" * (10 * 1024 * 1024) + b"\r\n"
    assert_problem(_import(clerk, too_big), 413)
    assert _all_customers(clerk) == []


@dataclass
class FreshService:
    base_url: str
    email: str


@pytest.fixture
async def fresh_service(postgres_server_url: str, tmp_path: Path) -> AsyncIterator[FreshService]:
    """A second service on a database of its own, created and migrated for this test."""
    name = await create_database(postgres_server_url)
    try:
        url = url_of_database(postgres_server_url, name)
        await upgrade_to_head(url)
        settings = make_settings(url, tmp_path / "photos")
        container = build_container(settings)
        user = await container.create_user().execute(
            SYSTEM_OPERATOR, NewUser("importer@example.com", "Ivy Importer", PASSWORD)
        )
        await container.adapters.engine().dispose()
        with serve_in_thread(lambda base: create_app(settings.replace(public_url=base))) as base_url:
            yield FreshService(base_url, user.email)
    finally:
        await drop_database(postgres_server_url, name)


def test_an_exported_file_imports_into_a_fresh_database_as_the_same_customers(
    clerk: SignedIn, fresh_service: FreshService
) -> None:
    _create(clerk, "C-1", name="=1+2", surname="Lovelace", email="ada@example.com", phone="+44 20 7946 0000")
    _create(clerk, "C-2", name="Grace", surname="'@Hopper", notes='Multi\r\nline, with "quotes"')
    _create(clerk, "C-3", name="Zoë", surname="Ørsted", notes="-minus\tand tab")
    exported = clerk.get(EXPORT)
    assert exported.status_code == 200
    assert _rows(exported.text)[-1]["name"] == "'=1+2"

    with httpx.Client(base_url=fresh_service.base_url, timeout=30) as other:
        importer = sign_in(other, fresh_service.email)
        imported = importer.post(IMPORT, content=exported.content, headers=CSV_TYPE)
        assert imported.status_code == 200, imported.text
        assert imported.json()["created"] == 3
        copied = _all_customers(importer)

    original = _all_customers(clerk)
    assert [{key: c[key] for key in EDITABLE} for c in copied] == [{key: c[key] for key in EDITABLE} for c in original]
    assert copied[0]["name"] == "=1+2"


def test_a_search_with_nul_is_a_bad_request_before_the_export_starts(clerk: SignedIn, admin: SignedIn) -> None:
    assert_problem(clerk.get(EXPORT, params={"q": "a\x00b"}), 400)
    assert_problem(clerk.get("/api/v1/customers", params={"q": "a\x00b"}), 400)
    assert_problem(admin.get("/api/v1/users", params={"q": "a\x00b"}), 400)
