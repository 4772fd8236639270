"""Prometheus gauges of the database connection pool, read when /metrics is scraped.

One collector per process (Prometheus refuses the same metric twice); it reports every engine that is
being watched, summed, which is one engine in a served process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool


class PoolMetrics(Collector):
    def __init__(self) -> None:
        self._engines: list[AsyncEngine] = []
        self._lock = threading.Lock()

    def watch(self, engine: AsyncEngine) -> None:
        with self._lock:
            self._engines.append(engine)

    def forget(self, engine: AsyncEngine) -> None:
        with self._lock:
            self._engines = [known for known in self._engines if known is not engine]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            pools = [engine.sync_engine.pool for engine in self._engines]
        queues = [pool for pool in pools if isinstance(pool, QueuePool)]
        gauge = GaugeMetricFamily("crm_db_pool_connections", "Database pool connections by state.", labels=["state"])
        gauge.add_metric(["in_use"], sum(pool.checkedout() for pool in queues))
        gauge.add_metric(["idle"], sum(pool.checkedin() for pool in queues))
        gauge.add_metric(["overflow"], sum(max(pool.overflow(), 0) for pool in queues))
        yield gauge
        yield GaugeMetricFamily(
            "crm_db_pool_size", "Configured database pool size.", value=sum(p.size() for p in queues)
        )


POOL_METRICS = PoolMetrics()
REGISTRY.register(POOL_METRICS)
