"""Running the webhook delivery worker: alone (`crm webhooks work`) or beside the API inside `crm serve`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from adapters.webhooks.metrics import watch_outbox
from adapters.webhooks.sender import HttpWebhookSender
from crm.container import Application

logger = logging.getLogger("crm.webhooks")

# How long a stopping worker may take to finish the round it is in (a send has 10 s) before it is cancelled, which
# releases its deliveries untouched for another worker.
STOP_GRACE_SECONDS = 15.0


@contextlib.asynccontextmanager
async def webhook_worker_running(container: Application) -> AsyncIterator[asyncio.Task[None]]:
    """The worker runs while the block does; leaving it stops the worker gracefully."""
    worker = container.webhook_worker()
    queue = container.adapters.delivery_queue()
    watcher = asyncio.create_task(watch_outbox(queue, container.clock().now))
    sweeper = asyncio.create_task(_sweep_idempotency_records(container))
    task = asyncio.create_task(worker.run())
    logger.info("Webhook delivery worker started.")
    try:
        yield task
    finally:
        worker.stop()
        try:
            async with asyncio.timeout(STOP_GRACE_SECONDS):
                await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for helper in (watcher, sweeper):
            helper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await helper
        close = getattr(queue, "close", None)
        if close is not None:
            await close()
        sender = container.webhook_sender()
        if isinstance(sender, HttpWebhookSender):
            await sender.aclose()
        logger.info("Webhook delivery worker stopped.")


async def _sweep_idempotency_records(container: Application, interval: float = 3600.0) -> None:
    """Idempotency records older than a day go, hourly: the workers are the service's one always-running helper."""
    sweep = container.sweep_idempotency_records()
    while True:
        try:
            removed = await sweep.execute()
            if removed:
                logger.info("Swept %d expired idempotency records.", removed)
        except Exception:
            logger.warning("Sweeping idempotency records failed; trying again in an hour.", exc_info=True)
        await asyncio.sleep(interval)


async def work_until_signalled(container: Application) -> None:
    """`crm webhooks work`: deliver until SIGTERM or SIGINT, then stop gracefully."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with webhook_worker_running(container) as task:
        waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
