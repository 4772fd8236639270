"""From the runs to the figures: medians, ratios, the issue's targets, and the Markdown page."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.load import LoadResult

SERVICE = "service"
REFERENCE = "reference"
MEMORY_LIMIT_MIB = 200.0
DEPTH_LATENCY_LIMIT = 1.5


@dataclass(frozen=True, slots=True)
class Endpoint:
    key: str
    title: str
    # The smallest service/reference requests-per-second ratio the issue asks for; None: no target.
    min_ratio: float | None = None
    with_reference: bool = True


@dataclass(frozen=True, slots=True)
class RunRecord:
    endpoint: str
    app: str
    run: int
    load: LoadResult
    cpu_seconds: float
    peak_rss_kib: int


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
        )
    return summaries


def ratio(summaries: dict[tuple[str, str], Summary], endpoint: str) -> float | None:
    service, reference = summaries.get((endpoint, SERVICE)), summaries.get((endpoint, REFERENCE))
    if service is None or reference is None or not reference.rps_median:
        return None
    return service.rps_median / reference.rps_median


def targets(
    endpoints: Sequence[Endpoint],
    summaries: dict[tuple[str, str], Summary],
    *,
    first_page: str,
    deep_page: str,
    deep_rows: int,
    sign_in: str,
) -> list[TargetResult]:
    results = []
    for endpoint in endpoints:
        if endpoint.min_ratio is None:
            continue
        measured = ratio(summaries, endpoint.key)
        results.append(
            TargetResult(
                f"{endpoint.title}: requests/s vs reference",
                f">= {endpoint.min_ratio:.1f}x",
                "not measured" if measured is None else f"{measured:.2f}x",
                None if measured is None else measured >= endpoint.min_ratio,
            )
        )
    first, deep = summaries.get((first_page, SERVICE)), summaries.get((deep_page, SERVICE))
    if first and deep and first.p50_ms:
        depth = deep.p50_ms / first.p50_ms
        results.append(
            TargetResult(
                f"Page deep in {deep_rows:,} rows: p50 latency vs first page",
                f"<= {DEPTH_LATENCY_LIMIT:.1f}x",
                f"{depth:.2f}x ({deep.p50_ms:.1f} ms vs {first.p50_ms:.1f} ms)",
                depth <= DEPTH_LATENCY_LIMIT,
            )
        )
    customers = [s for (key, app), s in summaries.items() if app == SERVICE and key != sign_in]
    if customers:
        peak = max(summary.peak_rss_mib for summary in customers)
        results.append(_memory("Service worker peak resident memory, customer endpoints", peak))
    signing_in = summaries.get((sign_in, SERVICE))
    if signing_in:
        results.append(
            _memory(
                "Service worker peak resident memory, signing in (argon2id: 64 MiB a hash)", signing_in.peak_rss_mib
            )
        )
    everything = list(summaries.values())
    errors = sum(summary.errors for summary in everything)
    server_errors = sum(summary.server_errors for summary in everything)
    non_2xx = sum(summary.non_2xx for summary in everything)
    results.append(
        TargetResult(
            "No errors and no 5xx in any run (service and reference)",
            "0",
            f"{errors} socket errors/timeouts, {server_errors} 5xx, {non_2xx} non-2xx",
            errors == 0 and server_errors == 0 and non_2xx == 0,
        )
    )
    return results


def _memory(target: str, peak_mib: float) -> TargetResult:
    return TargetResult(target, f"< {MEMORY_LIMIT_MIB:.0f} MiB", f"{peak_mib:.0f} MiB", peak_mib < MEMORY_LIMIT_MIB)


def _verdict(passed: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "n/a"}[passed]


def results_table(endpoints: Sequence[Endpoint], summaries: dict[tuple[str, str], Summary]) -> str:
    lines = [
        "| Endpoint | App | req/s median (min-max) | p50 ms | p99 ms | server CPU ms/req | peak RSS MiB "
        "| errors | non-2xx | service/ref |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for endpoint in endpoints:
        for app in (SERVICE, REFERENCE):
            summary = summaries.get((endpoint.key, app))
            if summary is None:
                continue
            measured = ratio(summaries, endpoint.key) if app == SERVICE else None
            lines.append(
                f"| {endpoint.title if app == SERVICE else ''} | {app} "
                f"| {summary.rps_median:,.0f} ({summary.rps_min:,.0f}-{summary.rps_max:,.0f}) "
                f"| {summary.p50_ms:.1f} | {summary.p99_ms:.1f} | {summary.cpu_ms_per_request:.2f} "
                f"| {summary.peak_rss_mib:.0f} | {summary.errors} | {summary.non_2xx} "
                f"| {'' if measured is None else f'{measured:.2f}'} |"
            )
    return "\n".join(lines)


def targets_table(results: Sequence[TargetResult]) -> str:
    lines = ["| Target (issue 6) | Required | Measured | Result |", "| --- | --- | --- | --- |"]
    lines.extend(f"| {r.target} | {r.required} | {r.measured} | {_verdict(r.passed)} |" for r in results)
    return "\n".join(lines)


def page(
    *,
    machine: dict[str, str],
    method: str,
    endpoints: Sequence[Endpoint],
    summaries: dict[tuple[str, str], Summary],
    results: Sequence[TargetResult],
    notes: Sequence[str],
) -> str:
    machine_lines = "\n".join(f"| {name} | {value} |" for name, value in machine.items())
    notes_text = "\n".join(f"- {note}" for note in notes) if notes else "- none"
    return f"""# Performance

Written by `make bench` (`uv run python -m bench.run`); do not edit by hand, run it again. The method is
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
other status. service/ref: the service's median requests/s divided by the reference's.

## Targets

{targets_table(results)}

## Notes from this run

{notes_text}

## Method

{method}
"""
