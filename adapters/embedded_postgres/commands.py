"""Running PostgreSQL's own programs: as the server's account (initdb, pg_ctl) or as ourselves (psql, createdb)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from adapters.embedded_postgres.accounts import EmbeddedPostgresError, ServerAccount

# How long pg_ctl may wait for the server to start or stop.
TIMEOUT_SECONDS = 120


def run_as_server(
    account: ServerAccount, command: list[str], *, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    switch = account.is_switched
    # The server's output goes to its log file (-l), never to our pipes, so these cannot hang.
    result = subprocess.run(  # noqa: S603 - our own binaries and arguments
        command,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS + 30,
        cwd=cwd,
        env=_environment(),
        check=False,
        user=account.uid if switch else None,
        group=account.gid if switch else None,
        extra_groups=[] if switch else None,
    )
    if check and result.returncode != 0:
        raise EmbeddedPostgresError(f"{Path(command[0]).name} failed:\n{result.stdout}\n{result.stderr}")
    return result


def run_client(command: list[str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - our own binaries and arguments
        command, capture_output=True, text=True, timeout=60, env=_environment(), check=False
    )
    if result.returncode != 0:
        raise EmbeddedPostgresError(f"{Path(command[0]).name} failed:\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment() -> dict[str, str]:
    """Our environment without libpq's PG* variables, which would point the tools elsewhere."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    environment["LC_ALL"] = "C"
    return environment
