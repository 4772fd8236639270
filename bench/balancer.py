"""A steady load of reads and writes sent through a small load balancer, recorded per phase.

The balancer does what a Kubernetes Service behind an ingress does, in the way least kind to the service:
- it sends each request to the next server in rotation (round-robin);
- a server enters the rotation when ``/health/ready`` first answers 200 and leaves it after two probes in a row
  (every 0.5 s, each given 3 s) get anything else: the Deployment's readiness probe (timeout 3 s, failure
  threshold 2), polled ten times as often; it learns of a shutdown only through that probe (no endpoint removal
  ahead of SIGTERM, no preStop sleep), so the service's own shutdown delay is all that protects the requests;
- a request whose connection is refused is sent once more, to another server in rotation: nothing reached the
  first one. Any other error (reset, timeout, a connection closed before the answer) is not retried, since the
  first server may have acted on it.

A request **fails** when it gets no answer after that one retry, or an answer other than the one expected (200 for
reads and PATCH, 201 for POST): a 5xx, a 4xx, a timeout. Requests are sent on a fixed schedule (open loop), so a
request held up by a lock does not hold up the next ones, and each counts in the phase in which it was sent.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx

PROBE_SECONDS = 0.5
PROBE_TIMEOUT_SECONDS = 3.0
PROBE_FAILURE_THRESHOLD = 2
REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass
class Outcome:
    phase: str
    write: bool
    seconds: float
    ok: bool
    retried: bool
    detail: str  # for a failure: the request and what came back


@dataclass
class Balancer:
    token: str
    rotation: list[str] = field(default_factory=list)
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    _joined: dict[str, asyncio.Event] = field(default_factory=dict)
    _probes: list[asyncio.Task[None]] = field(default_factory=list)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def register(self, base_url: str) -> None:
        """A server to probe from now on; it serves once ready."""
        self._clients[base_url] = httpx.AsyncClient(
            base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS, headers={"Authorization": f"Bearer {self.token}"}
        )
        self._joined[base_url] = asyncio.Event()
        self._probes.append(asyncio.create_task(self._probe(base_url)))

    async def _probe(self, base_url: str) -> None:
        failures = 0
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_SECONDS) as prober:
            while True:
                try:
                    ready = (await prober.get(base_url + "/health/ready")).status_code == 200
                except httpx.HTTPError:
                    ready = False
                failures = 0 if ready else failures + 1
                if ready and base_url not in self.rotation:
                    self.rotation.append(base_url)
                    self._joined[base_url].set()
                elif failures >= PROBE_FAILURE_THRESHOLD and base_url in self.rotation:
                    self.rotation.remove(base_url)
                await asyncio.sleep(PROBE_SECONDS)

    async def wait_until_serving(self, base_url: str) -> None:
        async with asyncio.timeout(30):
            await self._joined[base_url].wait()

    async def send(self, method: str, path: str, json: object | None) -> tuple[httpx.Response | str, bool]:
        """The answer (or why none came), and whether it took a second server."""
        if not self.rotation:
            return "no server in rotation", False
        first = self.rotation[next(self._turn) % len(self.rotation)]
        try:
            return await self._clients[first].request(method, path, json=json), False
        except httpx.ConnectError:
            others = [base_url for base_url in self.rotation if base_url != first]
            if not others:
                return "connection refused, no other server", True
            try:
                return await self._clients[random.choice(others)].request(method, path, json=json), True
            except httpx.HTTPError as error:
                return f"{type(error).__name__} on the retry", True
        except httpx.HTTPError as error:
            return type(error).__name__, False

    async def close(self) -> None:
        for probe in self._probes:
            probe.cancel()
        for client in self._clients.values():
            await client.aclose()


@dataclass
class Load:
    """Writes and reads at fixed rates on customers ``C0000001`` to ``C{rows}``, recorded in ``outcomes``."""

    balancer: Balancer
    rows: int
    writes_per_second: float
    reads_per_second: float
    phase: str = "start"
    outcomes: list[Outcome] = field(default_factory=list)
    _created: itertools.count[int] = field(default_factory=itertools.count)
    _in_flight: set[asyncio.Task[None]] = field(default_factory=set)

    def _customer(self) -> str:
        return f"C{random.randint(1, self.rows):07d}"

    async def _one(self, write: bool, tick: int) -> None:
        phase, started = self.phase, time.monotonic()
        request: tuple[str, str, dict[str, str] | None]
        if write and tick % 5 == 4:
            number = next(self._created)
            request = ("POST", "/api/v1/customers", {"id": f"R{number:07d}", "name": "Rolling", "surname": "Update"})
            expected = 201
        elif write:
            request, expected = ("PATCH", f"/api/v1/customers/{self._customer()}", {"notes": f"tick {tick}"}), 200
        elif tick % 4 == 3:
            request, expected = ("GET", "/api/v1/customers?q=anna&limit=20", None), 200
        else:
            request, expected = ("GET", f"/api/v1/customers/{self._customer()}", None), 200
        response, retried = await self.balancer.send(*request)
        ok = isinstance(response, httpx.Response) and response.status_code == expected
        got = f"{response.status_code} {response.text[:160]}" if isinstance(response, httpx.Response) else response
        detail = "" if ok else f"{request[0]} {request[1].split('?')[0]}: {got}"
        self.outcomes.append(Outcome(phase, write, time.monotonic() - started, ok, retried, detail))

    async def _paced(self, write: bool, per_second: float) -> None:
        interval, start = 1 / per_second, time.monotonic()
        for tick in itertools.count():
            task = asyncio.create_task(self._one(write, tick))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            await asyncio.sleep(max(0.0, start + (tick + 1) * interval - time.monotonic()))

    async def run_forever(self) -> None:
        await asyncio.gather(self._paced(True, self.writes_per_second), self._paced(False, self.reads_per_second))

    async def settle(self) -> None:
        """Wait until the requests sent so far have their outcome (each has the request timeout at most)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=REQUEST_TIMEOUT_SECONDS + 5)


@dataclass(frozen=True, slots=True)
class PhaseFigures:
    phase: str
    requests: int
    failed: int
    retried: int
    max_write_ms: float
    p99_write_ms: float
    max_read_ms: float


def figures(outcomes: list[Outcome], phases: list[str]) -> list[PhaseFigures]:
    by_phase: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_phase[outcome.phase].append(outcome)
    rows = []
    for phase in phases:
        done = by_phase.get(phase, [])
        writes = sorted(outcome.seconds * 1000 for outcome in done if outcome.write)
        reads = [outcome.seconds * 1000 for outcome in done if not outcome.write]
        rows.append(
            PhaseFigures(
                phase,
                len(done),
                sum(not outcome.ok for outcome in done),
                sum(outcome.retried for outcome in done),
                writes[-1] if writes else 0.0,
                writes[min(len(writes) - 1, int(len(writes) * 0.99))] if writes else 0.0,
                max(reads, default=0.0),
            )
        )
    return rows
