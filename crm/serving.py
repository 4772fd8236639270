"""What `crm serve` settles and says before it starts granian: who delivers the webhooks, and how to make the
first admin."""

from __future__ import annotations

from pathlib import Path

import click

from crm.settings import Settings


def delivers_webhooks(flag: bool | None, settings: Settings) -> bool:
    """``--webhooks/--no-webhooks``, else CRM_WEBHOOKS_IN_SERVE, else only alone on the embedded database."""
    chosen = flag if flag is not None else settings.webhooks_in_serve
    return not settings.database_url if chosen is None else chosen


def announce(host: str, port: int, *, webhooks: bool) -> None:
    click.echo(f"CRM Service on http://{host}:{port}  -  API docs: http://{host}:{port}/docs", err=True)
    if not webhooks:
        click.echo("Webhooks: delivered by `crm webhooks work` processes, not by this one (--webhooks).", err=True)
    # In a checkout, `crm` is not on PATH (uv runs it); `make admin` is. In the image, `crm` is the command.
    if Path("Makefile").is_file():
        click.echo("First admin, in this folder: make admin EMAIL=you@example.com NAME='Your Name'", err=True)
    else:
        click.echo("First admin: crm users create-admin --email you@example.com --name 'Your Name'", err=True)
