"""Log lines leave the process from a thread of their own, in batches, so that no request waits for stdout.

Every line of the worker (the access line and every ``logging`` record) is handed over as bytes to one
``LogWriter``: one queue in arrival order, so the two kinds of line stay in order with each other. A
background thread wakes a few times a second (or sooner when the queue fills up), joins what is queued
and writes it with one ``os.write`` loop. When the sink is slower than the lines come (a full pipe, a
stalled collector), the queue stops at ``capacity`` lines and further lines are dropped and counted in
``crm_log_lines_dropped_total`` instead of stalling the requests. ``close()`` (the app's shutdown, and
``atexit``) writes what is left, within a time limit, so a clean stop loses no line.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque

from prometheus_client import Counter

LINES_DROPPED = Counter(
    "crm_log_lines_dropped", "Log lines dropped because standard output could not take them fast enough."
)
INTERVAL_SECONDS = 0.05  # how long a line may wait for its batch; short enough to read logs live
CAPACITY = 20_000  # lines queued at most (a few MB): 400,000 lines/s at the interval above
CLOSE_TIMEOUT_SECONDS = 5.0


class LogWriter:
    """A bounded queue of lines drained by a daemon thread onto a file descriptor."""

    def __init__(self, fd: int, *, capacity: int = CAPACITY, interval: float = INTERVAL_SECONDS) -> None:
        self._fd = fd
        self._capacity = capacity
        self._interval = interval
        # deque's append and popleft are atomic: the request path takes no lock. A flush puts an Event in line.
        self._lines: deque[bytes | threading.Event] = deque()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="crm-log-writer", daemon=True)
        self._thread.start()

    def write(self, line: bytes) -> None:
        """Queue one line (ending in a newline); never blocks. A full queue drops it and counts it."""
        if self._closed:  # after shutdown (atexit, late library messages): no thread left, write directly
            if self._thread.is_alive():  # ... unless the sink is stuck: then waiting would hang the exit
                LINES_DROPPED.inc()
            else:
                self._write_all(line)
            return
        lines = self._lines
        if len(lines) >= self._capacity:
            LINES_DROPPED.inc()
            return
        lines.append(line)

    def flush(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> bool:
        """Wait until every line queued before the call is written; False if the sink did not take them in time."""
        if self._closed or not self._thread.is_alive():
            return not self._lines
        written = threading.Event()
        self._lines.append(written)
        self._wake.set()
        return written.wait(timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Write what is queued (at most ``timeout`` seconds), then stop the thread; later lines go out directly."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=0.5)

    @property
    def closed(self) -> bool:
        return self._closed

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._drain()

    def _drain(self) -> None:
        lines = self._lines
        batch: list[bytes] = []
        while lines:
            item = lines.popleft()
            if isinstance(item, bytes):
                batch.append(item)
                if len(batch) < 4096:
                    continue
            self._write_all(b"".join(batch))
            batch.clear()
            if not isinstance(item, bytes):
                item.set()
        if batch:
            self._write_all(b"".join(batch))

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                sent = os.write(self._fd, view)
            except InterruptedError:
                continue
            except OSError:
                # The sink is gone (a closed pipe): what is left of the batch cannot be written.
                LINES_DROPPED.inc(bytes(view).count(b"\n"))
                return
            view = view[sent:]


class WriterHandler(logging.Handler):
    """A ``logging`` handler that hands its formatted lines to the ``LogWriter``, in the same queue as access lines."""

    def __init__(self, writer: LogWriter) -> None:
        super().__init__()
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode()
        except Exception:  # as logging.StreamHandler does: a broken record must not break the caller
            self.handleError(record)
            return
        self.writer.write(line)


_WRITER: LogWriter | None = None


def stdout_writer() -> LogWriter:
    """The process's one writer on standard output, started on first use and flushed at exit."""
    global _WRITER
    if _WRITER is None or _WRITER.closed:
        _WRITER = LogWriter(1)
        atexit.register(_WRITER.close)
    return _WRITER


def flush_logs(timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
    """Write every queued line now (the app's shutdown calls this once requests are drained)."""
    if _WRITER is not None:
        _WRITER.flush(timeout)
