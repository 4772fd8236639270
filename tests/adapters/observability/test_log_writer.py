"""The log writer: one queue in order; a stuck sink drops and counts instead of stalling; close writes all."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from adapters.http.edge.observability import AccessLog, close_request_context, open_request_context
from adapters.observability.log_writer import LogWriter, WriterHandler


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):
            os.close(fd)


def _dropped() -> float:
    return REGISTRY.get_sample_value("crm_log_lines_dropped_total") or 0.0


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_access_lines_and_records_go_out_in_order_and_close_writes_them_all(
    pipe: tuple[int, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="crm.access")
    read_end, write_end = pipe
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(_read_all(read_end)), daemon=True)
    reader.start()
    writer = LogWriter(write_end, interval=3600)  # nothing goes out before close() but what close() writes
    access = AccessLog()
    access.configure(writer.write, "json")
    logger = logging.getLogger("tests.log_writer")
    logger.propagate = False
    handler = WriterHandler(writer)
    handler.setFormatter(logging.Formatter('{"event": "%(message)s"}'))
    logger.addHandler(handler)
    try:
        for number in range(500):
            logger.warning("record %d", number)
            access.write(open_request_context(f"req-{number}", "GET"), "/health/live", 200, 0.1)
            close_request_context()
        writer.close()
    finally:
        logger.removeHandler(handler)
    os.close(write_end)
    reader.join(30)
    lines = [json.loads(line) for line in received[0].splitlines()]
    assert len(lines) == 1000
    for number in range(500):
        assert lines[2 * number] == {"event": f"record {number}"}
        access_line = lines[2 * number + 1]
        assert access_line["request_id"] == f"req-{number}"
        assert access_line["logger"] == "crm.access"
        assert access_line["status"] == 200


def test_a_sink_nobody_reads_drops_and_counts_instead_of_blocking(pipe: tuple[int, int]) -> None:
    _, write_end = pipe  # nobody reads: the pipe's buffer (64 KiB) fills and the writer's thread blocks
    capacity, total, line = 100, 5_000, b"x" * 999 + b"\n"
    writer = LogWriter(write_end, capacity=capacity, interval=0.01)
    before = _dropped()
    finished = threading.Event()

    def log_a_lot() -> None:
        for _ in range(total):
            writer.write(line)
        finished.set()

    caller = threading.Thread(target=log_a_lot, daemon=True)
    caller.start()
    # A guard against a hang, not a timing assertion: writing into a queue must return however stuck the sink is.
    assert finished.wait(60), "write() blocked on a sink that takes nothing"
    dropped = _dropped() - before
    # At most the queue, one batch the thread took, and what fits in the pipe were accepted.
    assert dropped >= total - 2 * capacity - 66
    assert writer.flush(timeout=0.2) is False  # the sink takes nothing: flush gives up instead of hanging
    writer.close(timeout=0.2)
    writer.write(line)  # after close, with the thread still stuck: dropped, not a blocking write
    assert _dropped() - before == dropped + 1


def test_a_closed_pipe_counts_the_lines_it_lost(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    os.close(read_end)
    writer = LogWriter(write_end)
    before = _dropped()
    for _ in range(10):
        writer.write(b"lost\n")
    assert writer.flush() is True
    assert _dropped() - before == 10
    writer.close()
