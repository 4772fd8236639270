"""granian's supervisor logs in the format CRM_LOG_FORMAT names, like every other process of the service."""

from __future__ import annotations

import json
import logging

import pytest
from granian.log import LogLevels
from granian.log import configure_logging as configure_granian_logging

from adapters.observability.structured_logging import granian_log_config


# The handler writes to sys.stdout as it is when granian configures its logging: pytest's capture here.
def test_the_supervisor_writes_json_lines_when_told_to(capsys: pytest.CaptureFixture[str]) -> None:
    configure_granian_logging(LogLevels.warning, granian_log_config("json"))
    logging.getLogger("_granian").warning("Worker %d died", 2)
    logging.getLogger("_granian").info("not at warning level")
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["event"] == "Worker 2 died"
    assert (record["level"], record["logger"]) == ("warning", "_granian")


def test_and_readable_lines_otherwise(capsys: pytest.CaptureFixture[str]) -> None:
    configure_granian_logging(LogLevels.warning, granian_log_config("console"))
    logging.getLogger("_granian").error("Cannot bind")
    (line,) = capsys.readouterr().out.splitlines()
    assert "Cannot bind" in line and "[error" in line
    assert not line.startswith("{")
