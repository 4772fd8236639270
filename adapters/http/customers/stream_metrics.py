"""What operators see of live changes: the streams this process has open, beside its maximum
(``CRM_LIVE_CHANGES_MAX_STREAMS``, past which a stream gets 503), read when /metrics is scraped.

One collector per process (Prometheus refuses the same metric twice), summing every hub it watches: one in a served
process, several where tests run apps side by side.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from application.customers.live_changes import LiveChanges


class LiveChangeMetrics(Collector):
    def __init__(self) -> None:
        self._hubs: list[LiveChanges] = []

    def watch(self, hub: LiveChanges) -> None:
        self._hubs = [*self._hubs, hub]

    def forget(self, hub: LiveChanges) -> None:
        self._hubs = [known for known in self._hubs if known is not hub]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        hubs = self._hubs
        yield GaugeMetricFamily(
            "crm_live_change_streams",
            "Live change streams open in this process.",
            value=sum(len(hub.streams) for hub in hubs),
        )
        yield GaugeMetricFamily(
            "crm_live_change_streams_max",
            "Live change streams this process may hold (CRM_LIVE_CHANGES_MAX_STREAMS).",
            value=sum(hub.settings.max_streams for hub in hubs),
        )


LIVE_CHANGE_METRICS = LiveChangeMetrics()
REGISTRY.register(LIVE_CHANGE_METRICS)
