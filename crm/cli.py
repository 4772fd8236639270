"""The ``crm`` command: serve, migrate, create the first admin, and sweep orphaned photos."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import click

from crm.settings import Settings, SettingsError
from crm.terminal import CommandError, read_password, say

if TYPE_CHECKING:
    from crm.container import Application

T = TypeVar("T")


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database to use: DATABASE_URL, or outside production an embedded PostgreSQL in the data folder."""
    if settings.database_url:
        yield settings.database_url
        return
    if settings.is_production:
        raise SettingsError("DATABASE_URL must be set in production.")
    from adapters.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError

    folder = (settings.data_dir / "postgres").resolve()
    say(f"DATABASE_URL is not set: starting an embedded PostgreSQL for {folder} ...")
    try:
        server = EmbeddedPostgres(folder)
        server.start()
    except EmbeddedPostgresError as error:
        raise CommandError(str(error)) from None
    try:
        say(f"Embedded PostgreSQL: data in {server.data_dir} (log: {server.log_file})")
        yield server.url
    finally:
        server.stop()


def run_on_database(settings: Settings, work: Callable[[Application], Awaitable[T]]) -> T:
    """Run ``work`` on a container wired to the database (migrated first when it is the embedded one);
    the outcome of a refused operation becomes the command's error message."""
    from crm.container import build_container
    from domain.errors import DomainError

    with database(settings) as url:
        if not settings.database_url:
            _migrate(url)
        # Commands (the webhook worker, sweeps) are not requests: CRM_DB_STATEMENT_TIMEOUT_SECONDS is not theirs.
        container = build_container(settings.replace(database_url=url, db_statement_timeout_seconds=0))

        async def run() -> T:
            try:
                return await work(container)
            finally:
                await container.adapters.engine().dispose()

        try:
            return asyncio.run(run())
        except DomainError as error:
            raise CommandError(error.detail) from None


def _migrate(url: str, *, contract: bool = True) -> str:
    """Migrate (both phases unless told otherwise) and say what happened; a step that failed is a one-line error."""
    from adapters.sql.migrate import migrate
    from adapters.sql.migration_plan import MigrationError, SchemaAhead

    try:
        outcome = asyncio.run(migrate(url, contract=contract))
    except (MigrationError, ValueError) as error:
        raise CommandError(str(error)) from None
    return outcome.message() if isinstance(outcome, SchemaAhead) else outcome.plan.summary()


@click.group()
def main() -> None:
    """The CRM Service."""
    logging.basicConfig(level=os.environ.get("CRM_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--host", default=None, help="Address to listen on (CRM_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (PORT).")
@click.option("--workers", type=int, default=None, help="Worker processes (CRM_WORKERS).")
@click.option(
    "--migrate/--no-migrate", default=None, help="Apply migrations first (default: only with the embedded database)."
)
@click.option(
    "--webhooks/--no-webhooks", default=None, help="Deliver webhooks here too (CRM_WEBHOOKS_IN_SERVE; make run does)."
)
def serve(host: str | None, port: int | None, workers: int | None, migrate: bool | None, webhooks: bool | None) -> None:
    """Serve the API with granian; SIGTERM drains it cleanly."""
    from adapters.http.server import ServerOptions
    from adapters.http.server import serve as run_server
    from crm.serving import announce, delivers_webhooks

    settings = _settings()
    with database(settings) as url:
        if migrate or (migrate is None and not settings.database_url):
            say(_migrate(url))
        os.environ["DATABASE_URL"] = url
        in_serve = delivers_webhooks(webhooks, settings)
        os.environ["CRM_WEBHOOKS_IN_SERVE"] = "true" if in_serve else "false"
        host, port = host or settings.host, port or settings.port
        announce(host, port, webhooks=in_serve)
        options = ServerOptions(
            host=host,
            port=port,
            workers=workers or settings.workers,
            shutdown_delay_seconds=settings.shutdown_delay_seconds,
            drain_seconds=settings.shutdown_drain_seconds,
            live_change_streams=settings.live_changes_max_streams,
            request_connections=settings.request_connections,
            log_format=settings.log_format,
        )
        code = run_server(options, dict(os.environ))
    sys.exit(code)


@main.command()
@click.option(
    "--contract",
    is_flag=True,
    help="Also apply the contract phase (everything up to this release's head): only once no older release runs.",
)
def migrate(contract: bool) -> None:
    """Apply the expand phase of the pending migrations (with --contract: all of them).

    Without --contract, stops before the first pending contract revision. A database ahead of this release
    is left as it is (exit 0): re-deploying an older release is a rollback.
    """
    settings = _settings()
    with database(settings) as url:
        say(_migrate(url, contract=contract))


@main.group()
def users() -> None:
    """Manage users from the command line."""


@users.command("create-admin")
@click.option("--email", prompt="E-mail", help="The admin's e-mail (asked for when not given).")
@click.option("--name", prompt="Name", help="The admin's display name (asked for when not given).")
def create_admin(email: str, name: str) -> None:
    """Create an admin. The password is read from standard input (prompted for on a terminal)."""
    from application.access.users import NewUser
    from domain.sign_in import SYSTEM_OPERATOR

    password = read_password()

    async def create(container: Application) -> None:
        user = await container.create_user().execute(SYSTEM_OPERATOR, NewUser(email, name, password, is_admin=True))
        say(f"Created admin {user.email} ({user.id}).")

    run_on_database(_settings(), create)


@main.group()
def photos() -> None:
    """Look after the stored customer photos."""


@photos.command("sweep")
@click.option(
    "--older-than-minutes",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Grace period: younger objects may belong to an upload that is about to commit, and stay.",
)
def sweep_photos(older_than_minutes: int) -> None:
    """Purge the trash of customers deleted more than CRM_TRASH_DAYS ago, photos included, then delete
    stored photo objects that no customer refers to (what failures midway leave behind), and forget live change
    events older than CRM_LIVE_CHANGES_REPLAY_HOURS.

    Safe to run at any time and from several places at once; run it periodically, e.g. hourly.
    """
    from datetime import timedelta

    from application.customers.photo_sweep import SweepResult
    from crm.app import use_s3_photo_storage

    settings = _settings()

    async def sweep(container: Application) -> tuple[int, SweepResult, int]:
        async with contextlib.AsyncExitStack() as resources:
            await use_s3_photo_storage(container, resources)
            purged = await container.purge_trash().execute()
            result = await container.sweep_orphan_photos().execute(timedelta(minutes=older_than_minutes))
            return purged, result, await container.forget_old_change_events().execute()

    purged, result, forgotten = run_on_database(settings, sweep)
    say(f"Trash: purged {purged} customers deleted more than {settings.trash_days} days ago.", err=False)
    say(
        f"Photo sweep: examined {result.examined} objects; deleted {result.deleted} orphans;"
        f" kept {result.referenced} in use and {result.too_young} younger than {older_than_minutes} minutes.",
        err=False,
    )
    hours = settings.live_changes_replay_hours
    say(f"Live changes: forgot {forgotten} events older than {hours} hours.", err=False)


@main.group()
def webhooks() -> None:
    """Deliver webhook events."""


@webhooks.command("work")
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    default=9101,
    show_default=True,
    help="Serve Prometheus metrics on this port (0: not at all).",
)
def work_webhooks(metrics_port: int) -> None:
    """Deliver the outbox's webhook events until SIGTERM; any number of these share the work."""
    from prometheus_client import start_http_server

    from crm.webhook_worker import work_until_signalled

    settings = _settings()
    if metrics_port:
        start_http_server(metrics_port, addr=settings.host)
    run_on_database(settings, work_until_signalled)


def _settings() -> Settings:
    """The settings, and from here on logging in the format they name (CRM_LOG_FORMAT), as in the server."""
    from adapters.observability.structured_logging import configure_logging

    try:
        settings = Settings.from_environment()
    except SettingsError as error:
        raise CommandError(str(error)) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings
