"""Who the embedded server runs as, and which folders that account can reach.

PostgreSQL refuses to run as root. As root, the server runs as an unprivileged system account that owns its
data folder and nothing else; as anyone else it runs as the caller.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "crm-postgres"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be set up or started; the message says why."""


@dataclass(frozen=True, slots=True)
class ServerAccount:
    """Who the server runs as: the current user, or the system user when we are root."""

    uid: int
    gid: int
    name: str

    @property
    def is_switched(self) -> bool:
        """Whether commands run as this account need a switch from root."""
        return os.geteuid() == 0 and self.uid != 0


def server_account() -> ServerAccount:
    if os.geteuid() != 0:
        return ServerAccount(os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name)
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],  # noqa: S607
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SYSTEM_USER)
    return ServerAccount(entry.pw_uid, entry.pw_gid, SYSTEM_USER)


def first_closed_folder(path: Path, account: ServerAccount) -> Path | None:
    """The first existing folder on the way to ``path`` (itself excluded) that ``account`` cannot enter."""
    groups = {account.gid, *(group.gr_gid for group in grp.getgrall() if account.name in group.gr_mem)}
    for folder in reversed(path.parents):
        try:
            mode = folder.stat()
        except FileNotFoundError:
            return None  # what is missing, we create, and the caller checks again
        if mode.st_uid == account.uid:
            allowed = mode.st_mode & stat.S_IXUSR
        elif mode.st_gid in groups:
            allowed = mode.st_mode & stat.S_IXGRP
        else:
            allowed = mode.st_mode & stat.S_IXOTH
        if not allowed:
            return folder
    return None


def give_to(folder: Path, account: ServerAccount) -> None:
    """Hand ``folder`` and everything in it, and nothing else, to the server's account, private to it."""
    for current, _folders, files in os.walk(folder):
        os.chown(current, account.uid, account.gid)
        for name in files:
            os.lchown(Path(current) / name, account.uid, account.gid)
    folder.chmod(0o700)
