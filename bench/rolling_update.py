"""A rolling update under load, measured (issue 19): failed requests per phase, and how long writes wait while
each migration runs.

```sh
.venv/bin/python -m bench.rolling_update                      # previous_release.toml's commit -> HEAD, 10,000 rows
.venv/bin/python -m bench.rolling_update --old-release before-newest-migration --from-revision 0005 --rows 1000000
```

One run, on a throw-away database (``bench/database.py``) migrated to ``--from-revision`` (default: the old
release's newest revision) and seeded with ``--rows`` customers and as many history entries (``generate_series``):

1. *old alone*: the old release (installed from its commit with its own lock file, as tests/releases does) serves
   a steady load (``bench/balancer.py``: writes and reads at fixed rates, through a round-robin balancer);
2. *expand*: HEAD's ``crm migrate`` brings the schema to ``--to-revision`` (default: head); with ``--by-revision``,
   one revision at a time (HEAD's lock-safe runner), each in a phase of its own, so each gets its longest write;
3. *new starting*, *both*: HEAD's ``crm serve`` starts and joins the rotation once ready; both serve;
4. *old stopping*: the old server gets SIGTERM and drains; the balancer drops it when its readiness fails;
5. *contract*: ``crm migrate --contract``, when HEAD's ``crm migrate`` has that option;
6. *new alone*.

It prints, per phase, the requests sent, how many failed (``bench/balancer.py`` says exactly what counts), and
the longest write and read; and how long each migration ran. docs/performance-releases.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from bench import database, seed
from bench.balancer import Balancer, Load, PhaseFigures, figures
from bench.migrating import has_contract_phase, head_of, migrate, pending
from bench.write_probe import WriteProbe
from tests.releases.installation import HEAD, Release, configured_commit, install, resolve
from tests.releases.serving import Fleet, Server, create_admin, start

PASSWORD = "rolling update " + secrets.token_hex(8)
LOGS = Path("var/rolling-update-logs")
# HEAD limits each caller to 100 requests per 10 s by default, and the load is one caller (one token) sending
# 40 requests/s: with the default it would measure the limiter's 429s, not the rollout. A quota far above the load
# keeps the limiter and its exchange between replicas (writes to 0007's tables) in the path, as in production.
HEAD_ENVIRONMENT = {"CRM_RATE_LIMIT_REQUESTS": "1000000"}
PHASES = ["warm-up", "old alone", "expand", "new starting", "both", "old stopping", "contract", "new alone"]


async def seeded(fleet: Fleet, old: Release, rows: int) -> None:
    """The admin (by the old release's command line), ``rows`` customers and as many history entries."""
    email = "rolling@example.com"
    create_admin(old, fleet, email, "Rolling Admin", PASSWORD)
    connection = await asyncpg.connect(fleet.database_url)
    try:
        user_id = await connection.fetchval("SELECT id FROM users WHERE email = $1", email)
        user = seed.BenchUser(user_id, email, PASSWORD)
        await seed.add_customers(connection, user, 1, rows)
        await seed.add_history(connection, user, 1, rows)
    finally:
        await connection.close()


@dataclass
class Rollout:
    """The servers of one run, and what it noted per phase."""

    fleet: Fleet
    balancer: Balancer
    load: Load
    probe: WriteProbe
    servers: list[Server]
    expand: dict[str, str]  # phase -> the revision it migrates to
    notes: dict[str, str] = field(default_factory=dict)

    def enter(self, phase: str) -> None:
        self.load.phase = self.probe.phase = phase

    async def run(self, args: argparse.Namespace) -> None:
        """The phases, in order, while the load runs."""
        old_server = self.servers[0]
        self.enter("warm-up")
        await asyncio.sleep(2)
        self.enter("old alone")
        await asyncio.sleep(args.steady_seconds)
        reached = args.from_revision
        for phase, revision in self.expand.items():
            self.enter(phase)
            seconds, failure = await asyncio.to_thread(migrate, self.fleet, revision)
            self.notes[phase] = f"{reached} -> {revision}: {seconds:.1f} s"
            reached = revision
            if failure:
                # Nothing else may roll out on a schema that the migration left where it was: the run ends here.
                self.notes[phase] += f", FAILED: {failure}"
                await asyncio.sleep(args.steady_seconds)
                return
        self.enter("new starting")
        # Generous: on a small machine under load, a server's start competes with everything else.
        new_server = await asyncio.to_thread(start, HEAD, self.fleet, HEAD_ENVIRONMENT, 300)
        self.servers.append(new_server)
        self.balancer.register(new_server.base_url)
        await self.balancer.wait_until_serving(new_server.base_url)
        self.enter("both")
        await asyncio.sleep(args.steady_seconds)
        self.enter("old stopping")
        old_server.terminate()
        self.notes["old stopping"] = f"exit code {await asyncio.to_thread(old_server.wait)}"
        self.enter("contract")
        if await asyncio.to_thread(has_contract_phase, self.fleet):
            seconds, failure = await asyncio.to_thread(migrate, self.fleet, "head", "--contract")
            self.notes["contract"] = f"crm migrate --contract: {seconds:.1f} s" + (
                f", FAILED: {failure}" if failure else ""
            )
        else:
            self.notes["contract"] = "HEAD's crm migrate has no --contract: nothing to run"
        self.enter("new alone")
        await asyncio.sleep(args.steady_seconds)


async def measured_run(args: argparse.Namespace, fleet: Fleet, old: Release) -> tuple[list[PhaseFigures], Rollout]:
    old_server = await asyncio.to_thread(start, old, fleet)
    async with httpx.AsyncClient(base_url=old_server.base_url) as client:
        form = {"grant_type": "password", "username": "rolling@example.com", "password": PASSWORD}
        token = (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
    balancer = Balancer(token)
    load = Load(balancer, args.rows, args.writes_per_second, args.reads_per_second)
    # One phase for the whole expand step (as the pipeline runs it), or one per revision (--by-revision).
    expand = {"expand": args.to_revision}
    if args.by_revision:
        expand = {f"expand {step}": step for step in pending(HEAD, args.from_revision, args.to_revision)}
    phases = PHASES[:2] + list(expand) + PHASES[3:]
    rollout = Rollout(fleet, balancer, load, WriteProbe(fleet.database_url, args.rows), [old_server], expand)
    balancer.register(old_server.base_url)
    await balancer.wait_until_serving(old_server.base_url)
    probe = rollout.probe
    senders = [
        asyncio.create_task(task) for task in (load.run_forever(), probe.run_forever(), probe.watch_locks_forever())
    ]
    try:
        await rollout.run(args)
    finally:
        for sender in senders:
            sender.cancel()
        await load.settle()
        await balancer.close()
        for server in rollout.servers:
            server.terminate()
            with contextlib.suppress(RuntimeError):
                server.wait()
    failures = [f"- {outcome.phase}: {outcome.detail}" for outcome in load.outcomes if not outcome.ok]
    if failures:
        rollout.notes["failures"] = "\n".join(failures)
    return figures(load.outcomes, phases), rollout


def report(args: argparse.Namespace, rows: list[PhaseFigures], rollout: Rollout) -> str:
    notes, probe = rollout.notes, rollout.probe
    lines = [
        f"Old release {args.old_release[:7]} -> HEAD; migrations {args.from_revision} -> {args.to_revision}; "
        f"{args.rows:,} customers and {args.rows:,} history rows; {args.writes_per_second:g} writes/s and "
        f"{args.reads_per_second:g} reads/s; {os.cpu_count()} cores, {platform.machine()}, load average {args.load} "
        "at the start.",
        "",
        "| phase | requests | failed | retried | longest write | p99 write | longest read | longest SQL write "
        "| longest lock wait | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {row.phase} | {row.requests} | {row.failed} | {row.retried} | {row.max_write_ms:.0f} ms "
        f"| {row.p99_write_ms:.0f} ms | {row.max_read_ms:.0f} ms | {probe.longest_ms(row.phase):.0f} ms "
        f"| {probe.longest_lock_wait(row.phase)} | {notes.get(row.phase, '')} |"
        for row in rows
    ]
    if "failures" in notes:
        lines += ["", "Failed requests:", notes["failures"]]
    return "\n".join(lines)


async def run(args: argparse.Namespace, server_url: str, work: Path, old: Release) -> None:
    db = await database.create(server_url, args.from_revision)
    try:
        fleet = Fleet(db.url, secrets.token_urlsafe(48), work / "photos", work, args.shutdown_delay)
        started = time.monotonic()
        await seeded(fleet, old, args.rows)
        print(f"Seeded {args.rows:,} customers and history rows in {time.monotonic() - started:.0f} s", flush=True)
        rows, rollout = await measured_run(args, fleet, old)
    finally:
        await database.drop(db)
    print(report(args, rows, rollout))


def main(args: argparse.Namespace) -> None:
    args.old_release = resolve(args.old_release or configured_commit())
    args.load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="crm-rolling-") as folder, database.server() as server_url:
        work = Path(folder)
        (work / "old").mkdir()
        (work / "photos").mkdir()
        old = install(args.old_release, work / "old")
        args.from_revision = args.from_revision or head_of(old)
        try:
            asyncio.run(run(args, server_url, work, old))
        finally:
            # The servers' logs outlive the run's folder: a failure's stack trace is there.
            shutil.rmtree(LOGS, ignore_errors=True)
            LOGS.mkdir(parents=True)
            for log in work.glob("*.log"):
                shutil.copy(log, LOGS / log.name)
            print(f"Server logs: {LOGS}/")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--old-release", help="a commit, or before-newest-migration (default: previous_release.toml)")
    parser.add_argument("--from-revision", help="the database's revision at the start (default: the old release's)")
    parser.add_argument("--to-revision", default="head", help="the expand phase's target (default: head)")
    parser.add_argument(
        "--by-revision", action="store_true", help="expand one revision at a time, each a phase of its own"
    )
    parser.add_argument("--rows", type=int, default=10_000, help="customers, and history entries, seeded")
    parser.add_argument("--steady-seconds", type=float, default=5.0, help="each steady phase's length")
    parser.add_argument("--writes-per-second", type=float, default=20.0)
    parser.add_argument("--reads-per-second", type=float, default=20.0)
    parser.add_argument("--shutdown-delay", type=int, default=2, help="CRM_SHUTDOWN_DELAY_SECONDS of both")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(parse())
