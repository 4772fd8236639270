"""Where, as root, the server's account keeps what it needs when it cannot reach the caller's folders.

A clone in root's home (mode 700 on most systems) is out of the server account's reach, and we never open up
the caller's folders. Instead the account gets a place of its own: ``/var/lib/crm-postgres`` (or, where that
cannot be created, ``/tmp/crm-postgres``), owned by root and readable by all. It holds a checked copy of the
binaries and, for each data folder the account cannot reach, a data folder of its own that only it can enter.
"""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from adapters.embedded_postgres.accounts import EmbeddedPostgresError, ServerAccount, first_closed_folder

DEFAULT_SERVER_HOMES = (Path("/var/lib/crm-postgres"), Path("/tmp/crm-postgres"))  # noqa: S108 - checked below


def server_home(requested: Path | None, account: ServerAccount) -> Path:
    """The first usable place: a folder only root can change, which ``account`` can reach."""
    problems = []
    for place in [requested] if requested else DEFAULT_SERVER_HOMES:
        try:
            if not place.exists():
                place.mkdir(parents=True)
                place.chmod(0o755)
            status = place.lstat()
        except OSError as error:
            problems.append(f"{place}: {error.strerror}")
            continue
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != 0 or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            # In a shared folder such as /tmp, someone else may have made it first: do not trust it.
            problems.append(f"{place}: not a folder that only root can change")
            continue
        closed = first_closed_folder(place / "-", account)
        if closed is not None:
            problems.append(f"{place}: {account.name} cannot enter {closed}")
            continue
        return place
    raise EmbeddedPostgresError(f"No place for the embedded PostgreSQL's own files: {'; '.join(problems)}.")


def relocated_data_dir(home: Path, requested: Path) -> Path:
    """The data folder kept in ``home`` for ``requested``: the same one on every run from the same folder."""
    return home / f"data-{hashlib.sha256(str(requested).encode()).hexdigest()[:16]}"
