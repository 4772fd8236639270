"""Wiring fair use: the limiter and its exchange with the other replicas, from the settings."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket

from adapters.http.edge.fair_use import FairUse
from adapters.http.edge.quota_metrics import FAIR_USE_METRICS
from application.access.admission_sync import AdmissionSync
from application.access.limiter import Limiter
from application.access.running_limit import RunningLimit
from crm.container import Application
from domain.rate_limits import Policy

DAY_SECONDS = 86_400


def fair_use_of(container: Application) -> tuple[FairUse, AdmissionSync | None]:
    """The edge's fair use, and the exchange that shares it between replicas (None: the rate limit is off)."""
    settings = container.settings()
    limiter = None
    sync = None
    if settings.rate_limit_requests > 0:
        limiter = Limiter(
            Policy("burst", settings.rate_limit_requests, settings.rate_limit_window_seconds),
            Policy("daily", settings.api_key_daily_quota, DAY_SECONDS),
        )
        # Each process is a replica of its own: granian's workers share nothing either.
        replica = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        sync = AdmissionSync(limiter, container.adapters.admission_exchange(), container.clock(), replica=replica)
    running = RunningLimit()
    FAIR_USE_METRICS.watch(limiter, running, sync.lag if sync is not None else None)
    return FairUse(limiter, running, container.authenticate, container.client_addresses()), sync


async def start_exchanging(sync: AdmissionSync | None) -> asyncio.Task[None] | None:
    """Charge what the replicas admitted within the callers' windows (a restart forgets no quota) and exchange once,
    before the first request; then exchange about every second in a task of its own."""
    if sync is None:
        return None
    await sync.exchange_once()
    return asyncio.create_task(sync.run())


async def stop_exchanging(sync: AdmissionSync | None, task: asyncio.Task[None] | None) -> None:
    """Stop exchanging, report the last admissions and tell the other replicas (before the pool closes)."""
    if sync is None or task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await sync.leave()
