"""Load generators: wrk with the Lua scripts in ``bench/wrk/``, or a fallback in Python.

Both keep N connections busy for a fixed time, each sending its next request as soon as the previous
answer arrived (a closed loop), and report the same ``LoadResult``. wrk is preferred: it is C, costs a
few per cent of a core at these rates and measures latency without coordinated-omission surprises of
its own. The Python fallback (asyncio with a minimal HTTP/1.1 keep-alive client, uvloop when there) is
used when wrk is missing and cannot be installed; it needs about a core for 5-10,000 requests/s, so on a
two-core machine it competes with PostgreSQL and may itself be what limits the figures: read its
results as lower bounds and say so.

``python -m bench.load SPEC_JSON`` runs the fallback for one spec and prints the result as JSON: the
runner starts it pinned to the load generator's core, like wrk.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

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
    command = pinned([sys.executable, "-m", "bench.load", str(spec)], cores)
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    spec.unlink(missing_ok=True)
    if completed.returncode != 0:
        raise RuntimeError(f"the Python load generator failed: {completed.stderr}")
    return msgspec.json.decode(completed.stdout.strip().splitlines()[-1], type=LoadResult)


# The Python generator -------------------------------------------------------------------------------


@dataclass
class _Requests:
    workload: Workload
    host: str
    counter: int = 0
    names: tuple[str, ...] = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo")
    rng: random.Random = field(default_factory=random.Random)

    def next(self, connection: int) -> bytes:
        workload = self.workload
        headers = [f"Host: {self.host}"]
        if workload.bearer:
            headers.append(f"Authorization: Bearer {workload.bearer}")
        body = b""
        self.counter += 1
        if workload.kind == "paths":
            method, path = "GET", self.rng.choice(workload.items)
        elif workload.kind == "create":
            method, path = "POST", "/api/v1/customers"
            customer_id = f"{workload.tag}-{connection}-{self.counter}"
            body = json.dumps(
                {"id": customer_id, "name": self.rng.choice(self.names), "surname": "Bench",
                 "email": f"{customer_id}@example.com", "phone": f"+1 555 {self.rng.randrange(10**7):07d}"}
            ).encode()  # fmt: skip
            headers.append("Content-Type: application/json")
        elif workload.kind == "update":
            method, path = "PATCH", "/api/v1/customers/" + self.rng.choice(workload.items)
            body = json.dumps({"notes": f"Called back, ticket {connection}-{self.counter}."}).encode()
            headers.append("Content-Type: application/merge-patch+json")
        else:
            method, path = "POST", "/api/v1/auth/token"
            body = workload.form.encode()
            headers.append("Content-Type: application/x-www-form-urlencoded")
        headers.append(f"Content-Length: {len(body)}")
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(header + "\r\n" for header in headers) + "\r\n"
        return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _generate(base_url: str, workload: Workload, seconds: float) -> LoadResult:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    requests = _Requests(workload, f"{host}:{port}")
    latencies: list[float] = []
    status: dict[str, int] = {}
    errors = {"socket": 0, "timeouts": 0}
    started = time.perf_counter()
    deadline = started + seconds

    async def connection(number: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                writer.write(requests.next(number))
                code = await asyncio.wait_for(_read_response(reader), workload.timeout_seconds)
            except TimeoutError:
                errors["timeouts"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors["socket"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            latencies.append(time.perf_counter() - sent)
            klass = f"{code // 100}xx"
            status[klass] = status.get(klass, 0) + 1
        writer.close()

    await asyncio.gather(*(connection(number) for number in range(workload.connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000 if latencies else 0.0

    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(0.50),
        p99_ms=percentile(0.99),
        max_ms=latencies[-1] * 1000 if latencies else 0.0,
        socket_errors=errors["socket"],
        timeouts=errors["timeouts"],
        status=status,
    )


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    workload = Workload(**{**spec["workload"], "items": tuple(spec["workload"]["items"])})
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(_generate(spec["base_url"], workload, spec["seconds"]))
    else:
        result = uvloop.run(_generate(spec["base_url"], workload, spec["seconds"]))
    print(msgspec.json.encode(result).decode())


if __name__ == "__main__":
    main()
