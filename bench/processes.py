"""Starting the servers pinned to a core, and reading what they cost from /proc.

Both run under granian with one worker: the service through its own ``crm serve`` (whatever server and
options that command chooses), the references as ``granian --interface asgi bench.reference_app:app`` and
``bench.litestar_app:app``.
The process that is started is the server's main process; its worker is a child. CPU time is summed over
the whole tree; memory is the largest peak resident set (``VmHWM``) in it, which is the worker's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_SECONDS = 60.0


def pinned(command: list[str], cores: str | None) -> list[str]:
    if cores is None or shutil.which("taskset") is None:
        return command
    return ["taskset", "-c", cores, *command]


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def process_tree(root: int) -> list[int]:
    parents = {
        int(entry.name): _parent_of(int(entry.name)) for entry in Path("/proc").iterdir() if entry.name.isdigit()
    }
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree.extend(children)
        frontier = children
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User plus system time of the processes (all their threads)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / CLOCK_TICKS


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_kib(pids: list[int]) -> int:
    return max((_status_kib(pid, "VmHWM") for pid in pids), default=0)


def reset_peak_rss(pids: list[int]) -> None:
    """Start a new peak (``echo 5 > /proc/PID/clear_refs``), so that each run reports its own."""
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    @property
    def worker_pid(self) -> int:
        """The process with the largest resident set: the worker that serves requests."""
        return max(self.pids, key=lambda pid: _status_kib(pid, "VmRSS"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                for pid in reversed(self.pids):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.process.wait(5)


def start(name: str, command: list[str], env: Mapping[str, str], port: int, log_dir: Path, health_path: str) -> Server:
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
    server = Server(name, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(server.base_url + health_path, timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(
        f"{name} did not answer {health_path} within {START_TIMEOUT_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


def service_command(port: int, server: str = "crm") -> list[str]:
    """The service with one worker. ``crm``: its own ``crm serve``, exactly what production runs (whatever
    server that picks); ``granian`` or ``uvicorn`` (uvloop, httptools): that server on the app factory, to
    choose a server by measurement."""
    factory = "crm.asgi:create_app"
    address = ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", *address, "--no-access-log",
                "--log-level", "warning", factory]  # fmt: skip
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "--factory", *address, "--loop", "uvloop", "--http", "httptools",
                "--no-access-log", "--log-level", "warning", factory]  # fmt: skip
    crm = Path(sys.executable).with_name("crm")
    return [str(crm), "serve", *address, "--no-migrate"]


def reference_command(port: int, app: str = "bench.reference_app:app") -> list[str]:
    """A reference app (the bare one, or ``bench.litestar_app:app``) under granian with one worker."""
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning", app,
    ]  # fmt: skip
