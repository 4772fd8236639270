"""The readers of ``bench.live_changes``: many live change streams in one asyncio process.

Every stream counts the events it receives (cheaply: the service sends whole events per chunk); the first 50
also parse each event's ``timestamp`` and note how long after it the event arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

PROBES = 50
_MARKER = b"\nevent: customer."
_TIMESTAMP = re.compile(rb'"timestamp":"([^"]+)"')


class _Reader:
    def __init__(self, probe: bool) -> None:
        self.probe = probe
        self.events = 0
        self.latencies: list[float] = []
        self._tail = b""

    def took(self, data: bytes) -> None:
        arrived = time.time()
        seen = self._tail + data
        self.events += seen.count(_MARKER)
        self._tail = seen[-(len(_MARKER) - 1) :]
        if self.probe:
            for stamp in _TIMESTAMP.findall(data):
                self.latencies.append(arrived - datetime.fromisoformat(stamp.decode()).timestamp())


async def _open(host: str, port: int, key: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /api/v1/customers/changes HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        writer.close()
        return None
    return reader, writer


async def _follow(stream: tuple[asyncio.StreamReader, asyncio.StreamWriter], reader: _Reader) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await stream[0].read(65536):
            reader.took(data)


async def _main(base_url: str, keys: list[str], ready: Any, stop: Any) -> tuple[int, list[float], int]:
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = []
    for start in range(0, len(keys), 50):
        streams += await asyncio.gather(*(_open(host, port, key) for key in keys[start : start + 50]))
    opened = [stream for stream in streams if stream is not None]
    readers = [_Reader(probe=n < PROBES) for n in range(len(opened))]
    tasks = [asyncio.create_task(_follow(stream, reader)) for stream, reader in zip(opened, readers, strict=True)]
    ready.set()
    # A multiprocessing event, which asyncio cannot await: wait for it in a thread.
    await asyncio.to_thread(stop.wait)
    for stream in opened:
        stream[1].close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [latency for reader in readers for latency in reader.latencies]
    return sum(reader.events for reader in readers), latencies, len(opened)


def read_streams(base_url: str, keys: list[str], ready: Any, stop: Any, results: Any) -> None:
    """Open a stream per key, set ``ready``, read until ``stop`` is set, then put (events, latencies, opened)."""
    results.put(asyncio.run(_main(base_url, keys, ready, stop)))
