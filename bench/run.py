"""``make bench``: the service against a bare asyncpg reference and plain Litestar, side by side, on one machine.

    .venv/bin/python -m bench.run            # 3 runs of 10 s per endpoint and app (about 25 minutes)
    .venv/bin/python -m bench.run --quick    # 1 run of 3 s: proves the harness, figures are rough

See ``--help`` for the knobs and the Method section this writes into docs/performance.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from bench import access_log_cost, database, page_info, pool_check, report, targets
from bench.harness import Bench, Generator
from bench.load import run_python, run_wrk, wrk_available
from bench.options import cores, endpoints, parse_options
from bench.servers import running
from bench.workloads import measure_all, seed_base

BUSY_LOAD = 0.5  # a 1-minute load average above this at the start: others are using the machine


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = parse_options(argv)
    with contextlib.suppress(OSError, ValueError):
        os.sched_setaffinity(0, cores(options.client_cores))
    use_wrk = options.generator == "wrk" or (options.generator == "auto" and wrk_available(install=True))
    if options.generator == "wrk" and not wrk_available(install=True):
        raise SystemExit("wrk is not installed and could not be installed.")
    generate: Generator = run_wrk if use_wrk else run_python
    generator = (
        subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.split(" Copyright")[0]
        if use_wrk
        else "Python asyncio generator (bench/python_load.py; may itself limit the figures)"
    )
    base, deep, token = endpoints(options.deep_rows)
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as folder, database.server() as server_url:
        bench = Bench(options, generate, Path(folder))
        db = asyncio.run(database.create(server_url))
        try:
            with database.ServerPinning(db.postmaster_pid, cores(options.client_cores)) as pg_pinned:
                if not pg_pinned:
                    bench.notes.append("PostgreSQL could not be pinned to a core: it ran on any.")
                user = asyncio.run(seed_base(db.url))
                form = urlencode({"grant_type": "password", "username": user.email, "password": user.password})
                machine = page_info.machine(db, options, generator)
                if float(page_info.load_average().split(" / ")[0]) > BUSY_LOAD:
                    bench.notes.append(
                        f"The machine was busy when the run started (load average {page_info.load_average()}): "
                        "the figures are indicative; run again on a quiet machine."
                    )
                with running(bench, db, form) as session:
                    sweep = measure_all(bench, db, session, user)
        finally:
            if options.keep_database:
                print(f"The database stays: {db.url}", file=sys.stderr)
            else:
                asyncio.run(database.drop(db))
    machine["Load average at end"] = page_info.load_average()
    summaries = report.summarize(bench.records)
    access_line_us = access_log_cost.microseconds_per_line()[1] if options.wants("get") else None
    results = targets.targets(
        base,
        summaries,
        sweep,
        connections=options.connections,
        deep_rows=options.deep_rows,
        access_line_us=access_line_us,
    )
    if options.service_server != "crm":
        bench.notes.append(f"The service ran under {options.service_server} instead of `crm serve`.")
    if options.service_env:
        bench.notes.append("Service environment added: " + ", ".join(f"{n}={v}" for n, v in options.service_env))
    if not use_wrk:
        bench.notes.append("wrk was not available: the Python load generator may have limited the figures.")
    text = report.page(
        machine=machine,
        method=page_info.method(options, generator),
        endpoints=[*base, *deep, token],
        summaries=summaries,
        results=results,
        pool_check=pool_check.sweep_table(sweep),
        notes=[*options.notes, *bench.notes],
    )
    print(text)
    if options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text)
        print(f"Written to {options.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
