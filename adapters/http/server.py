"""Running the HTTP server (granian, supervised in a child process) with a clean shutdown.

On SIGTERM (or SIGINT) the service first reports itself not ready (``/health/ready`` answers 503) while
it keeps serving, so that load balancers stop sending it traffic; after the configured delay granian is
told to stop: it refuses new connections, finishes the requests in flight (within the drain time),
runs the application's shutdown (pool and S3 client closed) and exits 0.

Granian takes at most ``--backpressure`` connections per worker at once: further ones wait in the kernel's queue,
unanswered. A live change stream holds its connection for as long as it is open, so the limit is the streams a worker
may hold plus room for everything else (decision record 0044); left at granian's default (1024 ÷ workers), a worker
full of streams would answer nothing else, readiness probes included, and never get to refuse the next stream.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from adapters.observability.structured_logging import LogFormat, granian_log_config
from adapters.system.file_limit import raise_open_file_limit

# The file whose existence tells every worker that the service is shutting down.
SHUTDOWN_FLAG_VARIABLE = "CRM_SHUTDOWN_FLAG"
# Files a worker holds besides its served connections: pooled and listening database connections (the pool is at
# most 200), the S3 client's connections, the log and the runtime's own.
OTHER_FILES = 256

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    host: str
    port: int
    workers: int
    shutdown_delay_seconds: float
    drain_seconds: int
    # Per worker: the live change streams it may hold (CRM_LIVE_CHANGES_MAX_STREAMS), and the connections it
    # takes at once for everything else (CRM_REQUEST_CONNECTIONS).
    live_change_streams: int
    request_connections: int
    # granian's own supervisor logs in the service's format too.
    log_format: LogFormat = "console"

    @property
    def connections_per_worker(self) -> int:
        return self.live_change_streams + self.request_connections


def granian_command(options: ServerOptions, log_config: Path | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--host",
        options.host,
        "--port",
        str(options.port),
        "--workers",
        str(options.workers),
        "--workers-kill-timeout",
        str(options.drain_seconds),
        # Always given: it also wins over GRANIAN_BACKPRESSURE, which could undercut the streams again.
        "--backpressure",
        str(options.connections_per_worker),
        "--no-ws",
        "--log-level",
        "warning",
        *(["--log-config", str(log_config)] if log_config is not None else []),
        "crm.asgi:create_app",
    ]


def serve(options: ServerOptions, env: dict[str, str]) -> int:
    """Run granian until it exits; returns its exit code."""
    wanted = options.connections_per_worker + OTHER_FILES
    if raise_open_file_limit(wanted) < wanted:
        logger.warning(
            "Each worker may hold %d connections, but the limit of open files (ulimit -n) cannot be raised to %d: "
            "past it, new connections fail.",
            options.connections_per_worker,
            wanted,
        )
    with tempfile.TemporaryDirectory(prefix="crm-") as folder:
        flag = Path(folder) / "shutting-down"
        log_config = Path(folder) / "granian-logging.json"
        log_config.write_text(json.dumps(granian_log_config(options.log_format)))
        command = granian_command(options, log_config)
        server = subprocess.Popen(command, env={**env, SHUTDOWN_FLAG_VARIABLE: str(flag)})  # noqa: S603
        stopping = threading.Event()

        def stop(signum: int, _: FrameType | None) -> None:
            if stopping.is_set():
                return
            stopping.set()
            flag.touch()
            # Let the readiness probe see the flag before the listener closes, then stop granian.
            timer = threading.Timer(options.shutdown_delay_seconds, server.send_signal, args=(signal.SIGTERM,))
            timer.daemon = True
            timer.start()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            return server.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if server.poll() is None:
                server.kill()


def shutdown_requested() -> bool:
    flag = os.environ.get(SHUTDOWN_FLAG_VARIABLE)
    return flag is not None and Path(flag).exists()
