"""The issues' targets, met or missed, from the summaries of one run and its pool check."""

from __future__ import annotations

from collections.abc import Sequence

from bench.pool_check import SweepRecord
from bench.report import LITESTAR, SERVICE, Endpoint, Summary, TargetResult, is_service, ratio

MEMORY_LIMIT_MIB = 150.0
SIGN_IN_MEMORY_LIMIT_MIB = 200.0
DEPTH_LATENCY_LIMIT = 1.5
P99_LIMIT_MS = 40.0
ACCESS_LOG_SHARE_LIMIT = 0.03  # of a GET by id's server CPU (issue 23)
LOG_OFF = "service, access log off"
SCALING_MIN = 0.95  # GET by id at 16 connections vs at 8


def targets(
    endpoints: Sequence[Endpoint],
    summaries: dict[tuple[str, str], Summary],
    sweep: Sequence[SweepRecord],
    *,
    connections: int,
    deep_rows: int,
    access_line_us: float | None = None,
) -> list[TargetResult]:
    results = []
    for endpoint in endpoints:
        for against, name, minimum in (
            ("reference", "the bare reference", endpoint.min_ratio),
            (LITESTAR, "plain Litestar", endpoint.min_litestar_ratio),
        ):
            if minimum is None:
                continue
            measured = ratio(summaries, endpoint.key, SERVICE, against)
            results.append(
                TargetResult(
                    f"{endpoint.title}: requests/s vs {name}",
                    f">= {minimum:.2f}x",
                    "not measured" if measured is None else f"{measured:.2f}x",
                    None if measured is None else measured >= minimum,
                )
            )
    results.extend(_access_log(summaries, access_line_us))
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
    customers = [s for (key, app), s in summaries.items() if is_service(app) and key != "token"]
    if customers:
        peak = max(summary.peak_rss_mib for summary in customers)
        results.append(_memory("Service worker peak resident memory, customer endpoints", peak, MEMORY_LIMIT_MIB))
    signing_in = summaries.get(("token", SERVICE))
    if signing_in:
        added = f"; argon2id added {signing_in.peak_rss_mib - peak:.0f} MiB" if customers else ""
        results.append(
            TargetResult(
                "Service worker peak resident memory, signing in (argon2id: 64 MiB a hash, hashes in flight bounded)",
                f"< {SIGN_IN_MEMORY_LIMIT_MIB:.0f} MiB",
                f"{signing_in.peak_rss_mib:.0f} MiB{added}",
                signing_in.peak_rss_mib < SIGN_IN_MEMORY_LIMIT_MIB,
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


def _access_log(summaries: dict[tuple[str, str], Summary], access_line_us: float | None) -> list[TargetResult]:
    """The access line's CPU against a GET by id's: measured directly, and as the A/B difference of the two rows."""
    get, off = summaries.get(("get", SERVICE)), summaries.get(("get", LOG_OFF))
    if get is None or not get.cpu_ms_per_request:
        return []
    request_us = 1000 * get.cpu_ms_per_request
    measured, passed = "not measured", None
    if access_line_us is not None:
        share = access_line_us / request_us
        measured, passed = f"{100 * share:.1f} % ({access_line_us:.1f} µs of {request_us:.0f} µs)", share < 0.03
    if off is not None and off.cpu_ms_per_request:
        difference = (get.cpu_ms_per_request - off.cpu_ms_per_request) / get.cpu_ms_per_request
        measured += (
            f"; A/B in this run, log on vs off: {100 * difference:+.1f} % CPU per request, "
            f"{get.rps_median / off.rps_median:.2f}x the requests/s"
        )
    return [
        TargetResult(
            "Access log: CPU per GET by id (encode and queue on the request path, the writer's thread)",
            f"< {100 * ACCESS_LOG_SHARE_LIMIT:.0f} %",
            measured,
            passed,
        )
    ]


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
