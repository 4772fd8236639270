"""Live changes in a real browser (Debian's Chromium driven by Playwright): a page runs the fetch client that
docs/api.md shows, another client changes a customer, and the page sees it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.service.api.helpers import SignedIn
from tests.service.api.tools import chromium

DOCS = Path(__file__).resolve().parents[4] / "docs" / "api.md"


def _documented_client() -> str:
    """The code block of docs/api.md that starts with ``// live-changes-client``."""
    found = re.search(r"```js\n(// live-changes-client\n.*?)```", DOCS.read_text(), re.DOTALL)
    assert found, "docs/api.md has no live changes client"
    return found.group(1) + "\nwindow.followCustomerChanges = followCustomerChanges;\n"


def test_a_page_follows_changes_that_another_client_makes(clerk: SignedIn, admin: SignedIn, base_url: str) -> None:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable),
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            # The page stands in for the frontend on the service's origin; the API's own answers forbid scripts
            # (their Content-Security-Policy), which a frontend's page would not.
            context = browser.new_context(bypass_csp=True)
            page = context.new_page()
            page.goto(f"{base_url}/health/live")
            page.add_script_tag(content=_documented_client())
            page.evaluate(
                """token => {
                    window.seen = [];
                    window.opened = 0;
                    followCustomerChanges({
                        getToken: async () => token,
                        onEvent: (type, body) => window.seen.push([type, body.data.id, body.data.name ?? null]),
                        onReset: async () => window.seen.push(["reset"]),
                        onOpen: () => { window.opened += 1; },
                    });
                }""",
                clerk.access_token,
            )
            page.wait_for_function("window.opened === 1", timeout=10_000)

            created = admin.post("/api/v1/customers", json={"id": "C-browser", "name": "Grace", "surname": "Hopper"})
            assert created.status_code == 201, created.text
            page.wait_for_function("window.seen.length === 1", timeout=10_000)

            assert page.evaluate("window.seen") == [["customer.created", "C-browser", "Grace"]]
        finally:
            browser.close()
