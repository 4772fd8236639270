"""The front door, as a newcomer meets it: a fresh clone in a private (0700) folder, then the README's own
commands, exactly as written, with nothing installed or configured before them and nothing kept from an earlier
run. The service must come up ready, take the first admin, let them sign in and create a customer, and stop on
SIGTERM leaving nothing running.

As root (CI, containers, cloud VMs) the same path runs twice: as root, and as an unprivileged user with a home of
its own. Slow (the first install is part of it): ``-m "not newcomer"`` deselects it (see README.md).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
NEWCOMER_ACCOUNT = "crm-newcomer"
PASSWORD = "a newcomer's own passphrase 7"
EMAIL = "you@example.com"
# The first install (uv and every locked dependency, possibly with a cold download cache) is part of the wait.
READY_WITHIN_SECONDS = 600
# Variables of this test run that a newcomer's shell would not have.
_NOT_A_NEWCOMERS = re.compile(
    r"^(VIRTUAL_ENV|UV|UV_.*|PYTHONPATH|PYTHONHOME|MAKEFLAGS|MFLAGS|MAKELEVEL|DATABASE_URL|TEST_DATABASE_URL|"
    r"SECRET_KEY|CRM_.*|PORT|PG.*|PYTEST_.*)$"
)
_STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

pytestmark = pytest.mark.newcomer


@dataclass(frozen=True)
class Newcomer:
    """Who runs the commands: the caller, or (as root) an unprivileged account with a private home."""

    name: str
    uid: int
    gid: int
    home: Path

    @property
    def is_caller(self) -> bool:
        return self.uid == os.geteuid()


def readme_commands() -> tuple[str, str]:
    """The README's Getting started commands: the first shell block serves, the second creates the first admin."""
    readme = (REPOSITORY / "README.md").read_text()
    section = readme.split("## Getting started", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```shell\n(.*?)```", section, re.DOTALL)
    commands = [_first_command(block) for block in blocks[:2]]
    assert len(commands) == 2, "README's Getting started needs a shell block to serve and one for the first admin"
    return commands[0], commands[1]


def _first_command(block: str) -> str:
    line = next(line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    # A trailing "# ..." is a comment for the reader, as in a shell.
    return shlex.join(shlex.split(line, comments=True))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _unprivileged_account(home: Path) -> Newcomer:
    try:
        entry = pwd.getpwnam(NEWCOMER_ACCOUNT)
    except KeyError:
        subprocess.run(
            ["useradd", "--user-group", "--no-create-home", "--shell", "/bin/bash", NEWCOMER_ACCOUNT],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(NEWCOMER_ACCOUNT)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    return Newcomer(NEWCOMER_ACCOUNT, entry.pw_uid, entry.pw_gid, home)


@pytest.fixture(params=["root", "unprivileged user"] if os.geteuid() == 0 else ["caller"])
def newcomer(request: pytest.FixtureRequest) -> Iterator[Newcomer]:
    """A fresh private (0700) folder as the newcomer's home, owned by whoever runs the commands."""
    kind: str = request.param
    # An unprivileged account must be able to reach its home, so it lives in the shared /tmp, not under TMPDIR.
    parent = "/tmp" if kind == "unprivileged user" else None
    home = Path(tempfile.mkdtemp(prefix="crm-newcomer-", dir=parent))
    home.chmod(0o700)
    try:
        if kind == "unprivileged user":
            yield _unprivileged_account(home)
        else:
            yield Newcomer(pwd.getpwuid(os.geteuid()).pw_name, os.geteuid(), os.getegid(), home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _clone(newcomer: Newcomer) -> Path:
    """``git clone`` of the repository under test, its HEAD, into the newcomer's private folder."""
    clone = newcomer.home / "crm"
    subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(clone)], check=True, capture_output=True)
    if not newcomer.is_caller:
        for folder, _folders, files in os.walk(clone):
            os.chown(folder, newcomer.uid, newcomer.gid)
            for name in files:
                os.lchown(Path(folder) / name, newcomer.uid, newcomer.gid)
    return clone


def _environment(newcomer: Newcomer, port: int) -> dict[str, str]:
    """A login shell's environment: none of this run's settings, virtual environment or uv, on the usual PATH."""
    environment = {key: value for key, value in os.environ.items() if not _NOT_A_NEWCOMERS.match(key)}
    if newcomer.is_caller:
        outside = [p for p in os.environ["PATH"].split(":") if p and not p.startswith((str(REPOSITORY), sys.prefix))]
        environment["PATH"] = ":".join(outside)
    else:
        environment["PATH"] = _STANDARD_PATH
    environment.update(HOME=str(newcomer.home), USER=newcomer.name, LOGNAME=newcomer.name)
    # The one thing we add: a free port instead of the README's 8000, which another program may hold here.
    environment["PORT"] = str(port)
    return environment


def _run_as(newcomer: Newcomer) -> tuple[int | None, int | None, list[int] | None]:
    """subprocess's user, group and extra_groups: a switch to the newcomer unless they are the caller."""
    if newcomer.is_caller:
        return None, None, None
    return newcomer.uid, newcomer.gid, []


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(f"{entry.name}: {command}")
    return found


def _wait_until_ready(base_url: str, service: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if service.poll() is not None:
            pytest.fail(f"`make run` exited with {service.returncode}:\n{log.read_text(errors='replace')[-6000:]}")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    pytest.fail(f"/health/ready did not answer 200 within {READY_WITHIN_SECONDS} s:\n{log.read_text()[-6000:]}")


def _stop(service: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole foreground job, as a terminal, a container runtime or systemd would send it."""
    try:
        os.killpg(service.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        service.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(service.pid, signal.SIGKILL)
        service.wait()
        pytest.fail("`make run` did not stop within 90 s of SIGTERM")
    # make dies of the signal at once; what it started (uv, crm serve, granian, PostgreSQL) takes its time.
    deadline = time.monotonic() + 90
    while not _group_is_gone(service.pid) and time.monotonic() < deadline:
        time.sleep(0.5)


def _data_folder(log: Path) -> str | None:
    """The embedded PostgreSQL's data folder, as `crm serve` names it in the start-up log."""
    found = re.search(r"embedded PostgreSQL: data in (\S+)", log.read_text(errors="replace"), re.IGNORECASE)
    return found[1] if found else None


def _remove_relocated_data(log: Path, newcomer: Newcomer) -> None:
    """As root the data lives in the server account's own place, outside the clone: this run's goes with the run."""
    folder = _data_folder(log)
    if folder and not folder.startswith(str(newcomer.home)) and not (Path(folder) / "postmaster.pid").exists():
        shutil.rmtree(folder, ignore_errors=True)


def _group_is_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_newcomer_follows_the_readme(newcomer: Newcomer) -> None:
    serve, create_admin = readme_commands()
    clone = _clone(newcomer)
    mode_before = newcomer.home.stat()
    port = _free_port()
    environment = _environment(newcomer, port)
    base_url = f"http://127.0.0.1:{port}"
    user, group, extra_groups = _run_as(newcomer)
    log = newcomer.home / "make-run.log"
    with log.open("wb") as output:
        service = subprocess.Popen(
            ["bash", "-c", serve],
            cwd=clone,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            group=group,
            extra_groups=extra_groups,
        )
    try:
        _wait_until_ready(base_url, service, log)

        admin = subprocess.run(
            ["bash", "-c", create_admin],
            cwd=clone,
            env=environment,
            input=f"{PASSWORD}\n{PASSWORD}\n",
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            user=user,
            group=group,
            extra_groups=extra_groups,
        )
        assert admin.returncode == 0, f"{create_admin}\n{admin.stdout}{admin.stderr}"

        with httpx.Client(base_url=base_url, timeout=30) as client:
            token = client.post(
                "/api/v1/auth/token", data={"grant_type": "password", "username": EMAIL, "password": PASSWORD}
            )
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            created = client.post(
                "/api/v1/customers", json={"id": "ada", "name": "Ada", "surname": "Lovelace"}, headers=headers
            )
            assert created.status_code == 201, created.text
            assert client.get("/api/v1/customers/ada", headers=headers).json()["surname"] == "Lovelace"
    finally:
        _stop(service)
        _remove_relocated_data(log, newcomer)

    output_text = log.read_text(errors="replace")
    # make, killed by the signal like the rest of the job, reports it; what it ran must have stopped cleanly.
    assert service.returncode in (0, -signal.SIGTERM), output_text[-6000:]
    assert "Traceback" not in output_text, output_text[-6000:]
    assert _group_is_gone(service.pid), "processes of `make run` outlived it"
    data = _data_folder(log)
    assert data, output_text[-6000:]
    assert not (Path(data) / "postmaster.pid").exists(), "the embedded PostgreSQL is still running"
    assert _processes_mentioning(data) == []
    assert _processes_mentioning(str(clone)) == []
    # The newcomer's folders keep the permissions they had.
    mode_after = newcomer.home.stat()
    assert (mode_after.st_mode, mode_after.st_uid) == (mode_before.st_mode, mode_before.st_uid)
