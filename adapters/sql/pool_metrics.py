"""Prometheus gauges of the database connection pool, read when /metrics is scraped."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool


class PoolMetrics(Collector):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self._engine.sync_engine.pool
        if not isinstance(pool, QueuePool):
            return
        gauge = GaugeMetricFamily("crm_db_pool_connections", "Database pool connections by state.", labels=["state"])
        gauge.add_metric(["in_use"], pool.checkedout())
        gauge.add_metric(["idle"], pool.checkedin())
        gauge.add_metric(["overflow"], max(pool.overflow(), 0))
        yield gauge
        yield GaugeMetricFamily("crm_db_pool_size", "Configured database pool size.", value=pool.size())
