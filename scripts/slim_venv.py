"""What the production image leaves out of its virtual environment (docs/deployment.md, decision record 0040).

Two parts, both used by the Containerfile and by tests/platform/test_image_size.py:

- ``python3 slim_venv.py --uv-flags`` prints the ``uv sync`` options that skip locked packages the service
  never imports: Litestar's example factory (polyfactory, faker) and command-line output (rich, rich-click,
  markdown-it-py, mdurl, pygments), and its htmx plugin. Litestar imports them only for ``create_examples``,
  its own CLI and htmx, none of which the service uses; structlog uses rich only when it is installed.
- ``python3 slim_venv.py VENV`` deletes from an installed environment what nothing loads at run time: C and
  Cython sources and headers, type stubs, and the botocore service models other than S3 and the services its
  credential providers call (STS, SSO, SSO OIDC, sign-in).

Standard library only: it runs on the builder's Python before anything else is installed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

LEFT_OUT_PACKAGES = (
    "faker",
    "polyfactory",
    "pygments",
    "rich",
    "rich-click",
    "markdown-it-py",
    "mdurl",
    "litestar-htmx",
)
BOTOCORE_SERVICES_KEPT = frozenset({"s3", "sts", "sso", "sso-oidc", "signin"})
BUILD_ONLY_SUFFIXES = frozenset({".c", ".cpp", ".h", ".pyx", ".pxd", ".pyi"})


def uv_flags() -> str:
    return " ".join(f"--no-install-package {name}" for name in LEFT_OUT_PACKAGES)


def slim(venv: Path) -> int:
    """Delete what the service never loads from ``venv``; the bytes freed."""
    freed = 0
    for site_packages in venv.glob("lib/python*/site-packages"):
        for path in list(site_packages.rglob("*")):
            if path.is_file() and path.suffix in BUILD_ONLY_SUFFIXES:
                freed += path.stat().st_size
                path.unlink()
        models = site_packages / "botocore" / "data"
        for service in list(models.iterdir()) if models.is_dir() else []:
            if service.is_dir() and service.name not in BOTOCORE_SERVICES_KEPT:
                freed += sum(file.stat().st_size for file in service.rglob("*") if file.is_file())
                shutil.rmtree(service)
    return freed


def main(argv: list[str]) -> None:
    if argv == ["--uv-flags"]:
        print(uv_flags())
    elif len(argv) == 1:
        print(f"slim_venv: {slim(Path(argv[0])) / 2**20:.1f} MiB left out of {argv[0]}")
    else:
        raise SystemExit("usage: slim_venv.py --uv-flags | slim_venv.py VENV")


if __name__ == "__main__":
    main(sys.argv[1:])
