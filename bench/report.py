"""From the runs to the figures: medians, ratios, the issue's targets, and the Markdown page."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.load import LoadResult

SERVICE = "service"
LITESTAR = "litestar"  # the second reference: Litestar written plainly (bench/litestar_app.py)
REFERENCE = "reference"  # bare ASGI (bench/reference_app.py)
APPS = (SERVICE, LITESTAR, REFERENCE)


def is_service(app: str) -> bool:
    """The service, in its default configuration or a variant ("service, log off")."""
    return app.startswith(SERVICE)


@dataclass(frozen=True, slots=True)
class Variant:
    """The service once more with extra environment: a "with X on/off" row beside the default configuration.

    ``label`` names the row and must start with "service"; ``endpoints`` are the keys it is measured on.
    """

    label: str
    env: tuple[tuple[str, str], ...]
    endpoints: frozenset[str]


@dataclass(frozen=True, slots=True)
class Endpoint:
    key: str
    title: str
    # The smallest service/reference requests-per-second ratio the issue asks for; None: no target.
    min_ratio: float | None = None
    with_references: bool = True
    # The smallest service/plain-Litestar ratio (issue 23); None: no target.
    min_litestar_ratio: float | None = None

    def apps(self, variants: Sequence[Variant] = ()) -> tuple[str, ...]:
        """The apps measured, in the table's order: the service, its variants on this endpoint, the references."""
        extra = tuple(variant.label for variant in variants if self.key in variant.endpoints)
        return (SERVICE, *extra, *APPS[1:]) if self.with_references else (SERVICE, *extra)


@dataclass(frozen=True, slots=True)
class RunRecord:
    endpoint: str
    app: str
    run: int
    load: LoadResult
    cpu_seconds: float
    peak_rss_kib: int
    connections_opened: int | None = None  # by the service's pool during the run (its own counter)


@dataclass(frozen=True, slots=True)
class Summary:
    runs: int
    rps_median: float
    rps_min: float
    rps_max: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    peak_rss_mib: float
    errors: int  # socket errors and timeouts
    non_2xx: int
    server_errors: int  # 5xx
    connections_opened: int | None


@dataclass(frozen=True, slots=True)
class TargetResult:
    target: str
    required: str
    measured: str
    passed: bool | None  # None: not measured


def summarize(records: Sequence[RunRecord]) -> dict[tuple[str, str], Summary]:
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        groups.setdefault((record.endpoint, record.app), []).append(record)
    summaries = {}
    for key, runs in groups.items():
        rates = [run.load.rps for run in runs]
        requests = sum(run.load.requests for run in runs)
        summaries[key] = Summary(
            runs=len(runs),
            rps_median=statistics.median(rates),
            rps_min=min(rates),
            rps_max=max(rates),
            p50_ms=statistics.median(run.load.p50_ms for run in runs),
            p99_ms=statistics.median(run.load.p99_ms for run in runs),
            cpu_ms_per_request=1000 * sum(run.cpu_seconds for run in runs) / requests if requests else 0.0,
            peak_rss_mib=max(run.peak_rss_kib for run in runs) / 1024,
            errors=sum(run.load.socket_errors + run.load.timeouts for run in runs),
            non_2xx=sum(run.load.non_2xx for run in runs),
            server_errors=sum(run.load.status.get("5xx", 0) for run in runs),
            connections_opened=_total(run.connections_opened for run in runs),
        )
    return summaries


def _total(counts: Iterable[int | None]) -> int | None:
    known = [count for count in counts if count is not None]
    return sum(known) if known else None


def ratio(
    summaries: dict[tuple[str, str], Summary], endpoint: str, app: str = SERVICE, against: str = REFERENCE
) -> float | None:
    """``app``'s median requests/s over the bare reference's (or ``against``'s)."""
    measured, reference = summaries.get((endpoint, app)), summaries.get((endpoint, against))
    if measured is None or reference is None or not reference.rps_median:
        return None
    return measured.rps_median / reference.rps_median


def _verdict(passed: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "n/a"}[passed]


def results_table(endpoints: Sequence[Endpoint], summaries: dict[tuple[str, str], Summary]) -> str:
    lines = [
        "| Endpoint | App | req/s median (min-max) | p50 ms | p99 ms | server CPU ms/req | peak RSS MiB "
        "| errors | non-2xx | DB connections opened | vs bare reference | vs plain Litestar |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    apps_in_order = list(dict.fromkeys([SERVICE, *(app for _, app in summaries if is_service(app)), *APPS[1:]]))
    for endpoint in endpoints:
        first = True
        for app in apps_in_order:
            summary = summaries.get((endpoint.key, app))
            if summary is None:
                continue
            measured = ratio(summaries, endpoint.key, app) if app != REFERENCE else None
            framework = ratio(summaries, endpoint.key, app, LITESTAR) if is_service(app) else None
            opened = summary.connections_opened
            lines.append(
                f"| {endpoint.title if first else ''} | {app} "
                f"| {summary.rps_median:,.0f} ({summary.rps_min:,.0f}-{summary.rps_max:,.0f}) "
                f"| {summary.p50_ms:.1f} | {summary.p99_ms:.1f} | {summary.cpu_ms_per_request:.2f} "
                f"| {summary.peak_rss_mib:.0f} | {summary.errors} | {summary.non_2xx} "
                f"| {'' if opened is None else opened} | {'' if measured is None else f'{measured:.2f}x'} "
                f"| {'' if framework is None else f'{framework:.2f}x'} |"
            )
            first = False
    return "\n".join(lines)


def targets_table(results: Sequence[TargetResult]) -> str:
    lines = ["| Target (issues 6, 13 and 23) | Required | Measured | Result |", "| --- | --- | --- | --- |"]
    lines.extend(f"| {r.target} | {r.required} | {r.measured} | {_verdict(r.passed)} |" for r in results)
    return "\n".join(lines)


def page(
    *,
    machine: dict[str, str],
    method: str,
    endpoints: Sequence[Endpoint],
    summaries: dict[tuple[str, str], Summary],
    results: Sequence[TargetResult],
    pool_check: str,
    notes: Sequence[str],
) -> str:
    machine_lines = "\n".join(f"| {name} | {value} |" for name, value in machine.items())
    notes_text = "\n".join(f"- {note}" for note in notes) if notes else "- none"
    return f"""# Performance

Written by `make bench` (`.venv/bin/python -m bench.run`); do not edit by hand, run it again. The method is
below the figures; `bench/` holds the harness. Where the time goes, what was done about it and what is
left: [performance-analysis.md](performance-analysis.md).

## Machine

| | |
| --- | --- |
{machine_lines}

## Results

{results_table(endpoints, summaries)}

req/s: the median of the runs, with the slowest and fastest run; p50/p99: medians over the runs of each
run's percentile; server CPU: user + system time of the server's process tree divided by the requests
answered (PostgreSQL's own time is not in it); peak RSS: the largest VmHWM of the server's processes
(the worker), reset before every run; errors: socket errors and timeouts; non-2xx: answers with any
other status; DB connections opened: by the service's pool during the recorded runs (its counter
`crm_db_connections_opened_total`, after the warm-up). vs bare reference: the app's median requests/s
divided by the bare reference's; the plain-Litestar row shows what the framework itself allows, and "vs plain
Litestar" divides the service's rate by it. "service" is the default configuration (access log on, level
INFO, JSON lines, as `make run` and the image start it); a row "service, X off" is the same service with
one setting changed, measured interleaved in the same runs.

## The pool under rising concurrency (GET by id, service only)

{pool_check}

## Targets

{targets_table(results)}

## Notes from this run

{notes_text}

## Method

{method}
"""
