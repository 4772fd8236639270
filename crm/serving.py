"""What `crm serve` settles and says before it starts granian: who delivers the webhooks, and how to make the
first admin."""

from __future__ import annotations

from pathlib import Path

from crm.settings import Settings
from crm.terminal import say


def delivers_webhooks(flag: bool | None, settings: Settings) -> bool:
    """``--webhooks/--no-webhooks``, else CRM_WEBHOOKS_IN_SERVE, else only alone on the embedded database."""
    chosen = flag if flag is not None else settings.webhooks_in_serve
    return not settings.database_url if chosen is None else chosen


def announce(host: str, port: int, *, webhooks: bool) -> None:
    say(f"CRM Service on http://{host}:{port}  -  API docs: http://{host}:{port}/docs")
    if not webhooks:
        say("Webhooks: delivered by `crm webhooks work` processes, not by this one (--webhooks).")
    # In a checkout, `crm` is not on PATH (uv runs it); `make admin` is. In the image, `crm` is the command.
    if Path("Makefile").is_file():
        say("First admin, in this folder: make admin EMAIL=you@example.com NAME='Your Name'")
    else:
        say("First admin: crm users create-admin --email you@example.com --name 'Your Name'")
