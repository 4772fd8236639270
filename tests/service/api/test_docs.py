"""/docs as a frontend developer meets it: served offline by the service, under a strict policy, and usable in
a real browser (Debian's Chromium driven by Playwright) to sign in, create a customer and upload a photo."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from crm.app import create_app
from crm.settings import Settings
from tests.service.api.server import serve_in_thread
from tests.service.api.tools import ARTIFACTS, chromium

ADMIN_EMAIL = "grace.hopper@example.com"
ADMIN_PASSWORD = "Compilers are just translators"
SCREENSHOT = ARTIFACTS / "docs-photo-upload.png"


def test_the_page_needs_nothing_from_outside(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "http" not in policy  # no other origin: no CDN
    assert "<script>" not in page.text  # no inline script, which the policy would block anyway
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references and all(reference.startswith("/docs/assets/") for reference in references)
    for reference in references:
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        assert len(asset.content) > 100
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
    assert client.get("/docs/assets/../../crm/settings.py").status_code == 404
    assert client.get("/docs/assets/swagger-editor.js").status_code == 404


@pytest.fixture
def docs_server(settings: Settings, clean_database: object) -> Iterator[str]:
    """A server of its own whose first admin comes from CRM_BOOTSTRAP_ADMIN_*, as in a fresh installation."""
    bootstrapped = settings.replace(bootstrap_admin_email=ADMIN_EMAIL, bootstrap_admin_password=ADMIN_PASSWORD)
    with serve_in_thread(lambda url: create_app(bootstrapped.replace(public_url=url))) as url:
        yield url


def _note_policy_violation(text: str, blocked: list[str]) -> None:
    if "Content Security Policy" in text:
        blocked.append(text)


def _jpeg(path: Path) -> Path:
    image = Image.new("RGB", (320, 240), (200, 120, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_frontend_developer_signs_in_creates_a_customer_and_uploads_a_photo(docs_server: str, tmp_path: Path) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    photo = _jpeg(tmp_path / "ada.jpg")
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2000})
            # Offline: any request that leaves the service fails, as it would in a cluster without egress.
            page.route(re.compile(r"^(?!" + re.escape(docs_server) + ").*"), lambda route: route.abort())
            page.on("requestfailed", lambda request: blocked.append(request.url))
            page.on("console", lambda message: _note_policy_violation(message.text, blocked))
            page.goto(f"{docs_server}/docs")

            page.locator("button.authorize").first.click()
            page.fill("#oauth_username", ADMIN_EMAIL)
            page.fill("#oauth_password", ADMIN_PASSWORD)
            # The dialog lists both schemes (the password flow and API keys): authorize the password flow's.
            password_flow = page.locator(".auth-container", has=page.locator("#oauth_username"))
            password_flow.locator("button.authorize").click()
            expect(page.get_by_role("heading", name="Authorized")).to_be_visible()
            page.get_by_role("button", name="Close").first.click()

            create = page.locator("#operations-Customers-createCustomer")
            create.locator(".opblock-summary").click()
            create.locator("button.try-out__btn").click()
            body = {"id": "C-0100", "name": "Ada", "surname": "Lovelace", "email": "ada@example.com"}
            create.locator("textarea.body-param__text").fill(json.dumps(body))
            create.locator("button.execute").click()
            expect(create.locator(".live-responses-table tbody .response-col_status").first).to_have_text("201")

            upload = page.locator("#operations-Customers-uploadCustomerPhoto")
            upload.locator(".opblock-summary").click()
            upload.locator("button.try-out__btn").click()
            upload.locator('input[placeholder="customer_id"]').fill("C-0100")
            upload.locator('input[type="file"]').set_input_files(str(photo))
            upload.locator("button.execute").click()
            status = upload.locator(".live-responses-table tbody .response-col_status").first
            expect(status).to_have_text("200", timeout=20_000)
            answer = upload.locator(".live-responses-table tbody .response-col_description pre.microlight").first
            expect(answer).to_contain_text('"photo_thumbnail_url": "http')
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            upload.screenshot(path=str(SCREENSHOT))  # the operation: the file sent and the answer with its URLs
            thumbnail = json.loads(answer.inner_text())["photo_thumbnail_url"]
        finally:
            browser.close()
    assert not blocked, blocked
    image = httpx.get(thumbnail, timeout=10)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert SCREENSHOT.stat().st_size > 10_000
