"""The Python load generator (the fallback when wrk is missing): see ``bench/load.py``.

``python -m bench.python_load SPEC_JSON`` runs one spec and prints its ``LoadResult`` as JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from bench.load import LoadResult, Workload


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
