"""The live change hub's settings, from the service's settings."""

from __future__ import annotations

from datetime import timedelta

from application.customers.live_changes import LiveChangeSettings
from crm.settings import Settings


def replay_window(settings: Settings) -> timedelta:
    """How long a stream position stays resumable: events are kept that long."""
    return timedelta(hours=settings.live_changes_replay_hours)


def live_change_settings(settings: Settings) -> LiveChangeSettings:
    return LiveChangeSettings(
        max_streams=settings.live_changes_max_streams,
        heartbeat_seconds=settings.live_changes_heartbeat_seconds,
        poll_seconds=settings.live_changes_poll_ms / 1000,
        replay_window=replay_window(settings),
        max_queued=settings.live_changes_queue,
        linger_seconds=settings.live_changes_linger_seconds,
        # Long enough for a load balancer to have taken a stopping replica out of rotation.
        retry_ms=max(1000, settings.shutdown_delay_seconds * 1000),
    )
