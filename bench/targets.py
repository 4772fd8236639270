"""The issues' targets, met or missed, from the summaries of one run and its pool check."""

from __future__ import annotations

from collections.abc import Sequence

from bench.pool_check import SweepRecord
from bench.report import SERVICE, Endpoint, Summary, TargetResult, ratio

MEMORY_LIMIT_MIB = 150.0
SIGN_IN_MEMORY_LIMIT_MIB = 200.0
DEPTH_LATENCY_LIMIT = 1.5
P99_LIMIT_MS = 40.0
SCALING_MIN = 0.95  # GET by id at 16 connections vs at 8


def targets(
    endpoints: Sequence[Endpoint],
    summaries: dict[tuple[str, str], Summary],
    sweep: Sequence[SweepRecord],
    *,
    connections: int,
    deep_rows: int,
) -> list[TargetResult]:
    results = []
    for endpoint in endpoints:
        if endpoint.min_ratio is None:
            continue
        measured = ratio(summaries, endpoint.key)
        results.append(
            TargetResult(
                f"{endpoint.title}: requests/s vs the bare reference",
                f">= {endpoint.min_ratio:.2f}x",
                "not measured" if measured is None else f"{measured:.2f}x",
                None if measured is None else measured >= endpoint.min_ratio,
            )
        )
    results.extend(_pool_targets(sweep))
    get = summaries.get(("get", SERVICE))
    if get is not None:
        results.append(
            TargetResult(
                f"p99 latency, GET by id, {connections} connections",
                f"< {P99_LIMIT_MS:.0f} ms",
                f"{get.p99_ms:.1f} ms",
                get.p99_ms < P99_LIMIT_MS,
            )
        )
    first, deep = summaries.get(("list_deep", SERVICE)), summaries.get(("page_deep", SERVICE))
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
    customers = [s for (key, app), s in summaries.items() if app == SERVICE and key != "token"]
    if customers:
        peak = max(summary.peak_rss_mib for summary in customers)
        results.append(_memory("Service worker peak resident memory, customer endpoints", peak, MEMORY_LIMIT_MIB))
    signing_in = summaries.get(("token", SERVICE))
    if signing_in:
        results.append(
            _memory(
                "Service worker peak resident memory, signing in (argon2id: 64 MiB a hash)",
                signing_in.peak_rss_mib,
                SIGN_IN_MEMORY_LIMIT_MIB,
            )
        )
    everything = list(summaries.values())
    errors = sum(summary.errors for summary in everything)
    server_errors = sum(summary.server_errors for summary in everything)
    non_2xx = sum(summary.non_2xx for summary in everything)
    results.append(
        TargetResult(
            "No errors and no 5xx in any run (service and references)",
            "0",
            f"{errors} socket errors/timeouts, {server_errors} 5xx, {non_2xx} non-2xx",
            errors == 0 and server_errors == 0 and non_2xx == 0,
        )
    )
    return results


def _pool_targets(sweep: Sequence[SweepRecord]) -> list[TargetResult]:
    if not sweep:
        return []
    churning = [record for record in sweep if record.connections >= 16]
    opened = ", ".join(f"{r.connections}: {r.sessions_opened} ({r.connections_opened})" for r in churning)
    results = [
        TargetResult(
            "Database sessions opened after warm-up at 16, 32 and 64 clients (pg_stat_database; the pool's counter)",
            "0",
            opened,
            all(r.sessions_opened == 0 and r.connections_opened == 0 for r in churning),
        )
    ]
    by_connections = {record.connections: record for record in sweep}
    at_8, at_16 = by_connections.get(8), by_connections.get(16)
    if at_8 is not None and at_16 is not None and at_8.rps:
        scaling = at_16.rps / at_8.rps
        results.append(
            TargetResult(
                "GET by id at 16 connections vs at 8",
                f">= {SCALING_MIN:.2f}x",
                f"{scaling:.2f}x ({at_16.rps:,.0f} vs {at_8.rps:,.0f} req/s)",
                scaling >= SCALING_MIN,
            )
        )
    return results


def _memory(target: str, peak_mib: float, limit: float) -> TargetResult:
    return TargetResult(target, f"< {limit:.0f} MiB", f"{peak_mib:.0f} MiB", peak_mib < limit)
