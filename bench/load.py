"""Load generators: wrk with the Lua scripts in ``bench/wrk/``, or a fallback in Python.

Both keep N connections busy for a fixed time, each sending its next request as soon as the previous
answer arrived (a closed loop), and report the same ``LoadResult``. wrk is preferred: it is C, costs a
few per cent of a core at these rates and measures latency without coordinated-omission surprises of
its own. The Python fallback (asyncio with a minimal HTTP/1.1 keep-alive client, uvloop when there) is
used when wrk is missing and cannot be installed; it needs about a core for 5-10,000 requests/s, so on a
two-core machine it competes with PostgreSQL and may itself be what limits the figures: read its
results as lower bounds and say so.

``python -m bench.python_load SPEC_JSON`` runs the fallback for one spec and prints the result as JSON: the
runner starts it pinned to the load generator's core, like wrk.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import msgspec

from bench.processes import pinned

WRK_FOLDER = Path(__file__).resolve().parent / "wrk"
Kind = Literal["paths", "create", "update", "token"]


@dataclass(frozen=True, slots=True)
class Workload:
    """What to send: GET a random path of ``items``; POST new customers; PATCH a random id of ``items``;
    or POST the password grant ``form``."""

    kind: Kind
    items: tuple[str, ...] = ()
    bearer: str | None = None
    tag: str = "b"  # makes created ids unique per run
    form: str = ""
    connections: int = 32
    timeout_seconds: float = 10.0


class LoadResult(msgspec.Struct):
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    timeouts: int
    status: dict[str, int] = msgspec.field(default_factory=dict)  # "2xx": count, …

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(count for klass, count in self.status.items() if klass != "2xx")


def wrk_available(install: bool) -> bool:
    """wrk on PATH; when missing and allowed (root, apt-get present), install the Debian package."""
    if shutil.which("wrk"):
        return True
    if install and shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        command = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(command, check=False, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
            subprocess.run(command, check=False, capture_output=True)
    return shutil.which("wrk") is not None


def run_wrk(base_url: str, workload: Workload, seconds: float, cores: str | None, work_dir: Path) -> LoadResult:
    items_file = work_dir / f"items-{random.getrandbits(32):08x}.txt"
    items_file.write_text("\n".join(workload.items) + "\n")
    script, arguments = {
        "paths": ("paths.lua", [str(items_file), workload.bearer or ""]),
        "create": ("create.lua", [workload.bearer or "", workload.tag]),
        "update": ("update.lua", [str(items_file), workload.bearer or ""]),
        "token": ("token.lua", [workload.form]),
    }[workload.kind]
    if workload.kind == "paths" and not workload.bearer:
        arguments = arguments[:1]
    command = pinned(
        [
            "wrk", "-t1", f"-c{workload.connections}", f"-d{max(1, round(seconds))}s",
            f"--timeout={workload.timeout_seconds:g}s", "-s", str(WRK_FOLDER / script), base_url, "--", *arguments,
        ],
        cores,
    )  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    items_file.unlink(missing_ok=True)
    line = next((line for line in completed.stdout.splitlines() if line.startswith("BENCH_JSON ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}\n{completed.stdout}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    return LoadResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        socket_errors=raw["connect_errors"] + raw["read_errors"] + raw["write_errors"],
        timeouts=raw["timeouts"],
        status={klass: raw[f"s{klass}"] for klass in ("1xx", "2xx", "3xx", "4xx", "5xx") if raw[f"s{klass}"]},
    )


def run_python(base_url: str, workload: Workload, seconds: float, cores: str | None, work_dir: Path) -> LoadResult:
    spec = work_dir / f"spec-{random.getrandbits(32):08x}.json"
    spec.write_text(json.dumps({"base_url": base_url, "seconds": seconds, "workload": asdict(workload)}))
    command = pinned([sys.executable, "-m", "bench.python_load", str(spec)], cores)
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    spec.unlink(missing_ok=True)
    if completed.returncode != 0:
        raise RuntimeError(f"the Python load generator failed: {completed.stderr}")
    return msgspec.json.decode(completed.stdout.strip().splitlines()[-1], type=LoadResult)
