"""What operators see of fair use: decisions by policy (never by caller: ids would make unbounded label sets),
the callers tracked, and how far behind the replicas' exchange is.

Read from the limiter's own counts when /metrics is scraped, so that a request pays for no metric of its own
(a Prometheus counter takes a lock on every increment; these are plain integers of the one event loop).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from application.access.limiter import Limiter
from application.access.running_limit import RunningLimit

_POLICIES = ("burst", "daily")


class FairUseMetrics(Collector):
    def __init__(self) -> None:
        self._limiter: Limiter | None = None
        self._running: RunningLimit | None = None
        self._lag: Callable[[], float] | None = None

    def watch(self, limiter: Limiter | None, running: RunningLimit, lag: Callable[[], float] | None) -> None:
        """The process's one limiter (None: the rate limit is off), cap of long operations and exchange."""
        self._limiter, self._running, self._lag = limiter, running, lag

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        decisions = CounterMetricFamily(
            "crm_rate_limit_decisions",
            "Requests under /api/v1 admitted or refused, by fair-use policy (an API key's request counts under both"
            " burst and daily).",
            labels=["outcome", "policy"],
        )
        limiter = self._limiter
        counted = limiter.decisions if limiter is not None else None
        decisions.add_metric(["admitted", "burst"], counted.admitted if counted else 0)
        decisions.add_metric(["admitted", "daily"], counted.admitted_daily if counted else 0)
        for policy in _POLICIES:
            decisions.add_metric(["refused", policy], counted.refusals[policy] if counted else 0)
        decisions.add_metric(["refused", "concurrency"], self._running.refused if self._running else 0)
        yield decisions
        lag = self._lag
        yield GaugeMetricFamily(
            "crm_rate_limit_sync_lag_seconds",
            "Seconds since this process last charged what the other replicas admitted (about 1 when all is well).",
            value=lag() if lag is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "crm_rate_limit_callers",
            "Callers whose fair-use state this process keeps.",
            value=limiter.callers if limiter is not None else 0,
        )


FAIR_USE_METRICS = FairUseMetrics()
REGISTRY.register(FAIR_USE_METRICS)
