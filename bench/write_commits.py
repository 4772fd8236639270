"""Customer writes per second, straight in SQL: what the live changes' NOTIFY costs them (decision record 0043).

pgbench (10 connections) commits ``bench.write_probe``'s change (a customer row and its history row, through
migration 0008's triggers) on random customers of a throw-away database as fast as it can, a few seconds per round.
Rounds interleave the commit trigger's variants, so that the machine's load falls on all of them:

- *no NOTIFY*: 0008's trigger without its ``pg_notify`` (the ceiling);
- *0008*: ``pg_notify`` at every commit, as before 0009;
- *0009, nobody follows*: HEAD's trigger, no hub's listener connected (the check, no notification);
- *0009, a listener*: HEAD's trigger with one connection named as a hub's listener, LISTENing (what a process with
  open streams adds in the database, without the hub's reads);
- *0009, one stream* (``--stream``): ``crm serve`` on the database with one stream open over HTTP, reading every
  change (the notification, the hub's reads under the position lock, the worker's CPU on the same machine).

A connection of the bench LISTENs throughout under another name: what it hears shows which variants notify. Then
the check alone, in µs. Figures go to stdout and into their own section of docs/performance.md.

    .venv/bin/python -m bench.write_commits [--seconds 3] [--rounds 3] [--clients 10] [--stream] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

import asyncpg

from bench import commit_load, database
from bench.page_info import write_section

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
START, END = "<!-- write-commits -->", "<!-- /write-commits -->"
NOTIFY = "PERFORM pg_notify('crm_customer_changes', '');"
LISTENING = ("0009, a listener", "0009, one stream")


def _trigger_of(migration: str) -> str:
    path = ROOT / "migrations" / "versions" / migration
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module._POSITION_AT_COMMIT).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def _variants(stream: bool) -> dict[str, str]:
    """Each variant's commit trigger function, from the migrations' own text."""
    of_0008, of_0009 = _trigger_of("0008_live_changes.py"), _trigger_of("0009_notify_only_when_followed.py")
    variants = {"no NOTIFY": of_0008.replace(NOTIFY, ""), "0008": of_0008, "0009, nobody follows": of_0009}
    variants.update(dict.fromkeys(LISTENING[: 2 if stream else 1], of_0009))
    return variants


async def _round(db: database.Database, variant: str, trigger: str, script: Path, options: argparse.Namespace,
                 stream: tuple[str, str] | None) -> tuple[float, int, int]:  # fmt: skip
    """Commits/s, notifications heard, and events the stream got, in one round of ``variant``."""
    heard: list[object] = []
    watcher = await asyncpg.connect(db.url, server_settings={"application_name": "bench-watcher"})
    await watcher.execute(trigger)
    await watcher.add_listener("crm_customer_changes", lambda *_: heard.append(None))
    listener, opened = None, None
    if variant == "0009, a listener":
        listener = await asyncpg.connect(db.url, server_settings={"application_name": "crm-live-changes:bench"})
        await listener.add_listener("crm_customer_changes", lambda *_: None)
    if variant == "0009, one stream":
        assert stream is not None
        opened = await asyncio.to_thread(commit_load.Stream, *stream)
    try:
        await commit_load.listeners(db.url, 1 if variant in LISTENING else 0)
        rate = await asyncio.to_thread(commit_load.pgbench, db.url, script, options.clients, options.seconds)
        await asyncio.sleep(0.3)  # the last notifications on their way
    finally:
        if opened is not None:
            opened.close()
        if listener is not None:
            await listener.close()
        await watcher.close()
    await commit_load.listeners(db.url, 0)
    return rate, len(heard), opened.events if opened is not None else 0


def _run(options: argparse.Namespace) -> str:
    if shutil.which("pgbench") is None:
        raise SystemExit("pgbench is needed (apt-get install postgresql-client)")
    variants = _variants(options.stream)
    rates: dict[str, list[float]] = defaultdict(list)
    heard: dict[str, int] = defaultdict(int)
    delivered, server = 0, None
    with database.server() as server_url, tempfile.TemporaryDirectory(prefix="crm-bench-commits-") as folder:
        db = asyncio.run(database.create(server_url))
        try:
            asyncio.run(commit_load.seeded(db))
            script = Path(folder) / "change.sql"
            script.write_text(commit_load.CHANGE)
            stream = None
            if options.stream:
                server, token = commit_load.service(db, Path(folder))
                stream = (server.base_url, token)
            load = os.getloadavg()[0]
            for _ in range(options.rounds):
                for variant, trigger in variants.items():
                    rate, notified, events = asyncio.run(_round(db, variant, trigger, script, options, stream))
                    rates[variant].append(rate)
                    heard[variant] += notified
                    delivered += events
            check = _trigger_of("0009_notify_only_when_followed.py").split("IF ", 1)[1].split(" THEN", 1)[0]
            cost, sessions = asyncio.run(commit_load.check_cost(db.url, f"PERFORM {check};"))
        finally:
            if server is not None:
                server.stop()
            asyncio.run(database.drop(db))
    ceiling = statistics.median(rates["no NOTIFY"])
    rows = "\n".join(
        f"| {name} | {statistics.median(found):,.0f} | {statistics.median(found) / ceiling:.2f}x"
        f" | {min(found):,.0f} to {max(found):,.0f} | {heard[name]:,} |"
        for name, found in rates.items()
    )
    flags = " --stream" if options.stream else ""
    streamed = f"The stream got {delivered:,} events. " if options.stream else ""
    return f"""{START}
## Customer writes per second, and the live changes' NOTIFY

`.venv/bin/python -m bench.write_commits{flags}`: pgbench, {options.clients} connections,
each committing a customer update with its history row (0008's triggers) as fast as it can; {options.rounds} rounds
of {options.seconds:g} s per variant, interleaved. Load average {load:.1f} at the start, PostgreSQL {db.version}.

| Commit trigger | commits/s, median | of no NOTIFY | rounds | notifications heard |
| --- | ---: | ---: | ---: | ---: |
{rows}

0009's check alone (`pg_stat_activity` read afresh, {sessions} sessions on the server): {cost:.1f} µs per commit.
{streamed}PostgreSQL lets one notifying transaction at a time through its commit (a lock on the database's
notification queue, taken whether anyone listens or not): 0008 paid that at every customer write, 0009 only while
some process follows live changes (decision record 0043). The figures compare within one run: on this shared
machine the same variant moves by a third from round to round.
{END}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--stream", action="store_true", help="also with one stream open on a running service")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s (what make bench BENCH_ARGS=--quick)")
    options, _ = parser.parse_known_args()  # make bench passes every script the same arguments
    if options.quick:
        options.rounds, options.seconds = 1, 2.0
    section = _run(options)
    print(section)
    if not options.no_write:
        write_section(PAGE, START, END, section)


if __name__ == "__main__":
    main()
