"""What operators see of fair use: decisions by policy (never by caller: ids would make unbounded label sets),
the callers tracked, and how far behind the replicas' exchange is."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge

from application.access.limiter import Verdict


class FairUseMetrics:
    def __init__(self) -> None:
        self._decisions = Counter(
            "crm_rate_limit_decisions",
            "Requests under /api/v1 admitted or refused, by fair-use policy (an API key's request counts under both"
            " burst and daily).",
            ["outcome", "policy"],
        )
        self._admitted = {name: self._decisions.labels("admitted", name) for name in ("burst", "daily")}
        self._refused = {name: self._decisions.labels("refused", name) for name in ("burst", "daily", "concurrency")}
        self._lag = Gauge(
            "crm_rate_limit_sync_lag_seconds",
            "Seconds since this process last charged what the other replicas admitted (about 1 when all is well).",
        )
        self._callers = Gauge("crm_rate_limit_callers", "Callers whose fair-use state this process keeps.")

    def decided(self, verdict: Verdict, api_key: bool) -> None:
        if verdict.admitted:
            self._admitted["burst"].inc()
            if api_key:
                self._admitted["daily"].inc()
            return
        for policy in verdict.violated:
            self._refused[policy].inc()

    def refused_running(self) -> None:
        self._refused["concurrency"].inc()

    def watch(self, lag: Callable[[], float], callers: Callable[[], int]) -> None:
        """Read at each scrape: the process's one exchange and limiter."""
        self._lag.set_function(lag)
        self._callers.set_function(callers)


FAIR_USE_METRICS = FairUseMetrics()
