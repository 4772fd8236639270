"""What one access line costs: the request path's part (encode, queue) and the writer thread's part (join, write).

Measured in this process on the service's own code (``AccessLog`` and ``LogWriter`` writing to a file), as CPU
time of the process (both threads) per line; ``make bench`` divides it by the service's CPU per GET by id.
The A/B rows ("service" vs "service, access log off") show the same cost end to end, with the machine's noise.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time

from adapters.http.edge.observability import AccessLog, bind_user, close_request_context, open_request_context
from adapters.observability.log_writer import LogWriter

LINES = 200_000


def microseconds_per_line(lines: int = LINES) -> tuple[float, float]:
    """CPU microseconds per access line: on the request path (``write``), and in all (with the writer's thread)."""
    access_logger = logging.getLogger("crm.access")
    level = access_logger.level
    access_logger.setLevel(logging.INFO)
    with tempfile.TemporaryFile() as sink:
        writer = LogWriter(sink.fileno(), capacity=lines + 1, interval=3600)  # nothing written while timing
        log = AccessLog()
        log.configure(writer.write, "json")
        try:
            started = time.process_time()
            for number in range(lines):
                context = open_request_context("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "GET")
                bind_user("7d0b2c4e-8f1a-4b3c-9d2e-1f0a9b8c7d6e")
                log.write(context, "/api/v1/customers/{customer_id}", 200, 3.21 + number % 7)
                close_request_context()
            on_the_path = time.process_time() - started
            writer.flush(timeout=60)
            in_all = time.process_time() - started
            written = os.fstat(sink.fileno()).st_size
        finally:
            writer.close()
            access_logger.setLevel(level)
    if written < lines * 100:
        raise RuntimeError(f"the access lines were not written ({written} bytes for {lines} lines)")
    # Opening and closing the request context is the edge's work with or without the line: measured apart.
    started = time.process_time()
    for _ in range(lines):
        open_request_context("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "GET")
        bind_user("7d0b2c4e-8f1a-4b3c-9d2e-1f0a9b8c7d6e")
        close_request_context()
    context_only = time.process_time() - started
    return 1e6 * (on_the_path - context_only) / lines, 1e6 * (in_all - context_only) / lines


if __name__ == "__main__":
    path, total = microseconds_per_line()
    print(f"access line: {path:.2f} µs on the request path, {total:.2f} µs with the writer's thread")
