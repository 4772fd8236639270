"""What `crm serve` gives granian room for: per worker, its live change streams plus the other connections, as
granian's own command line reads it; and enough open files for them (decision record 0044)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from granian.cli import cli as granian_cli

from adapters.http.server import ServerOptions, granian_command
from adapters.observability.structured_logging import granian_log_config

OPTIONS = ServerOptions(
    host="127.0.0.1",
    port=8000,
    workers=2,
    shutdown_delay_seconds=2,
    drain_seconds=20,
    live_change_streams=1000,
    request_connections=1024,
)


def _granian_reads(command: list[str]) -> dict[str, object]:
    # The arguments after `python -m granian`, parsed as granian's entry point does (environment variables too).
    context = granian_cli.make_context("granian", command[3:], auto_envvar_prefix="GRANIAN")
    return dict(context.params)


def test_each_worker_takes_its_streams_plus_the_request_connections(tmp_path: Path) -> None:
    log_config = tmp_path / "log.json"
    log_config.write_text(json.dumps(granian_log_config("json")))
    params = _granian_reads(granian_command(OPTIONS, log_config))
    assert params["backpressure"] == 2024
    assert params["workers"] == 2


def test_granian_backpressure_in_the_environment_does_not_undercut_the_streams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRANIAN_BACKPRESSURE", "1000")
    assert _granian_reads(granian_command(OPTIONS))["backpressure"] == 2024


_RAISE = "from adapters.system.file_limit import raise_open_file_limit as r; import resource as s; " + (
    "print(r({wanted}), s.getrlimit(s.RLIMIT_NOFILE)[0])"
)


def _raise_in_a_child(soft: int, hard: int, wanted: int) -> list[int]:
    """``raise_open_file_limit(wanted)`` in a process started with these limits: its answer, and the soft limit
    after."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    done = subprocess.run(
        [sys.executable, "-c", _RAISE.format(wanted=wanted)],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(word) for word in done.stdout.split()]


def test_a_low_soft_limit_of_open_files_is_raised_to_what_the_worker_needs() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    assert _raise_in_a_child(soft=256, hard=ceiling, wanted=ceiling - 100) == [ceiling - 100, ceiling - 100]


def test_only_as_far_as_the_hard_limit_which_the_answer_shows_too_low() -> None:
    assert _raise_in_a_child(soft=256, hard=1024, wanted=2280) == [1024, 1024]


def test_a_soft_limit_high_enough_is_left_alone() -> None:
    assert _raise_in_a_child(soft=1024, hard=1024, wanted=600) == [600, 1024]
