"""What the ``crm`` commands exchange with the person at the terminal: a password read, and what they say.

What a command says (a summary, its counts, an error) is plain text on standard error or output, written at once,
while its log lines leave the process from the log writer's thread, up to 50 ms later (decision record 0039). So
whatever a command says is said after every line it has logged so far is written: a Job's log then reads in order,
a summary after the lines it sums up and an error after the step that failed.
"""

from __future__ import annotations

import getpass
import sys
from typing import IO, Any

import click

from adapters.observability.log_writer import flush_logs


def say(message: str, *, err: bool = True) -> None:
    """Print ``message`` after every line logged so far (on standard error unless ``err`` is false)."""
    flush_logs()
    click.echo(message, err=err)


class CommandError(click.ClickException):
    """A command that stops with one line (``Error: …``, exit status 1), printed after what it logged."""

    def show(self, file: IO[Any] | None = None) -> None:
        flush_logs()
        super().show(file)


def read_password() -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise CommandError("The passwords differ.")
        return password
    return sys.stdin.readline().rstrip("\r\n")
