"""Measuring: the apps side by side, interleaved, with what each run cost the server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import processes
from bench.load import LoadResult, Workload
from bench.options import Options
from bench.pool_check import connections_opened
from bench.report import SERVICE, Endpoint, RunRecord, is_service

Generator = Callable[[str, Workload, float, str | None, Path], LoadResult]
WorkloadOf = Callable[[str, int], Workload]


@dataclass
class Session:
    """Signs in through the service; signs in again before the 60-minute access token runs out."""

    base_url: str
    form: str
    token: str = ""
    issued: float = 0.0

    def bearer(self) -> str:
        # Not "issued long ago" alone: the monotonic clock starts at boot, so on a machine up for less than ten
        # minutes that would never sign in (and every request of the run would be a 401).
        if not self.token or time.monotonic() - self.issued > 600:
            response = httpx.post(
                self.base_url + "/api/v1/auth/token",
                content=self.form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )
            response.raise_for_status()
            self.token, self.issued = response.json()["access_token"], time.monotonic()
        return self.token


@dataclass
class Bench:
    options: Options
    generator: Generator
    work_dir: Path
    servers: dict[str, processes.Server] = field(default_factory=dict)
    records: list[RunRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def generate(self, app: str, workload: Workload, seconds: float) -> LoadResult:
        return self.generator(self.servers[app].base_url, workload, seconds, self.options.client_cores, self.work_dir)

    def measure(self, endpoint: Endpoint, workload: WorkloadOf) -> None:
        """Warm up, then ``runs`` runs of each app, interleaved (the order rotating every run) so that drift
        in the machine's speed falls on all alike."""
        options = self.options
        if not options.wants(endpoint.key):
            return
        apps = endpoint.apps(options.variants)
        print(f"== {endpoint.key}: {endpoint.title}", file=sys.stderr)
        for app in apps:
            if options.warmup > 0:
                self.generate(app, workload(app, -1), options.warmup)
        for run in range(options.runs):
            for app in apps[run % len(apps) :] + apps[: run % len(apps)]:
                self._run(endpoint, app, run, workload(app, run))
        if options.profile_dir is not None:
            self._profile(endpoint, workload)

    def _run(self, endpoint: Endpoint, app: str, run: int, workload: Workload) -> None:
        server = self.servers[app]
        pids = server.pids
        processes.reset_peak_rss(pids)
        opened_before = connections_opened(server.base_url) if is_service(app) else None
        cpu_before = processes.cpu_seconds(pids)
        load = self.generate(app, workload, self.options.seconds)
        cpu = processes.cpu_seconds(pids) - cpu_before
        opened = None if opened_before is None else connections_opened(server.base_url) - opened_before
        record = RunRecord(endpoint.key, app, run, load, cpu, processes.peak_rss_kib(pids), opened)
        self.records.append(record)
        print(
            f"   {app:9} run {run + 1}: {load.rps:8,.0f} req/s  p50 {load.p50_ms:6.1f} ms  "
            f"p99 {load.p99_ms:6.1f} ms  cpu {1000 * cpu / max(load.requests, 1):.2f} ms/req  "
            f"rss {record.peak_rss_kib / 1024:.0f} MiB  status {load.status}  "
            f"errors {load.socket_errors + load.timeouts}" + ("" if opened is None else f"  opened {opened}"),
            file=sys.stderr,
        )

    def _profile(self, endpoint: Endpoint, workload: WorkloadOf) -> None:
        """One extra, unrecorded service run with py-spy sampling the worker (collapsed stacks)."""
        assert self.options.profile_dir is not None
        self.options.profile_dir.mkdir(parents=True, exist_ok=True)
        output = self.options.profile_dir / f"{endpoint.key}.txt"
        server = self.servers[SERVICE]
        seconds = self.options.seconds
        command = processes.pinned(
            ["py-spy", "record", "--pid", str(server.worker_pid), "--duration", str(round(seconds)), "--rate", "250",
             "--format", "raw", "--nonblocking", "--output", str(output)],
            self.options.client_cores,
        )  # fmt: skip
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as spy:
            self.generate(SERVICE, workload(SERVICE, 99), seconds)
            spy.wait(30)
        print(f"   py-spy profile (collapsed stacks): {output}", file=sys.stderr)

    def check_parity(self, path: str, bearer: str) -> None:
        """The references answer what the service answers; otherwise the comparison is not fair."""
        headers = {"Authorization": f"Bearer {bearer}"}
        answers = {app: httpx.get(server.base_url + path, headers=headers, timeout=30)
                   for app, server in self.servers.items()}  # fmt: skip
        service = answers[SERVICE]
        for app, answer in answers.items():
            if is_service(app):
                continue
            if service.status_code != 200 or answer.status_code != 200:
                self.notes.append(f"Parity: `{path}` answered {service.status_code} (service), "
                                  f"{answer.status_code} ({app}).")  # fmt: skip
            elif service.json() != answer.json():
                self.notes.append(f"Parity: `{path}`: the {app}'s body differs from the service's.")
