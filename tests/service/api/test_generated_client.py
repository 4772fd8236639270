"""A frontend's generated TypeScript client against the live service.

The client is generated from the running server's /docs/openapi.json with openapi-typescript (pinned by
scripts/frontend-tools/package-lock.json), a small program using it through openapi-fetch is compiled with
tsc --strict, and then run with Node.js against the server: sign in, create, list with q, patch with
If-Match, upload a photo and read photo_url, import a CSV file as text/csv and as multipart and read the reports.
Any type error or unexpected status fails the test.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

from PIL import Image

from tests.service.api.conftest import Accounts
from tests.service.api.helpers import PASSWORD
from tests.service.api.tools import node_tools

PROGRAM = Path(__file__).with_name("client")


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


def _png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _csv(path: Path) -> Path:
    path.write_text("id,name,surname,email\r\nC-3001,Grace,Hopper,grace@example.com\r\nC-3002,Alan,Kay,\r\n")
    return path


async def test_a_generated_typescript_client_works_against_the_service(
    accounts: Accounts, base_url: str, tmp_path: Path
) -> None:
    tools = node_tools()
    user = await accounts.user(name="Alan Turing")
    work = tmp_path / "frontend"
    work.mkdir()
    for name in ("check.ts", "tsconfig.json"):
        (work / name).write_text((PROGRAM / name).read_text())
    (work / "package.json").write_text('{"type": "module", "private": true}\n')
    (work / "node_modules").symlink_to(tools)
    generate = ["node", str(tools.parent / "generate-client.mjs"), f"{base_url}/docs/openapi.json"]

    _run([*generate, "crm-api.ts"], work)
    _run([*generate, "crm-api-again.ts"], work)
    generated = (work / "crm-api.ts").read_text()
    assert (work / "crm-api-again.ts").read_text() == generated, "the same document gave a different client"
    assert "uploadCustomerPhoto: {" in generated and "file: Blob;" in generated
    assert '"text/csv": Blob;' in generated  # the import's body is typed, not left out

    _run([str(tools / ".bin" / "tsc"), "--strict", "-p", "tsconfig.json"], work)
    env = {
        **os.environ,
        "CRM_BASE_URL": base_url,
        "CRM_EMAIL": user.email,
        "CRM_PASSWORD": PASSWORD,
        "CRM_PHOTO": str(_png(tmp_path / "ada.png")),
        "CRM_CSV": str(_csv(tmp_path / "customers.csv")),
    }
    output = _run(["node", "out/check.js"], work, env)
    for step in ("signIn: 200", "createCustomer: 201", "listCustomers: 200", "updateCustomer: 200"):
        assert step in output, output
    assert "uploadCustomerPhoto: 200" in output and "photo_url: image/png" in output, output
    # The same two rows: created from the raw file, then found unchanged by the upsert through the form.
    assert "importCustomers as text/csv report: created 2, updated 0, dry_run false" in output, output
    assert "importCustomers as multipart report: created 0, updated 0, dry_run false" in output, output
