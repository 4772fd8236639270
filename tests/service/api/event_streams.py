"""Reading a Server-Sent Events stream over real HTTP in a background thread, as a client would.

``EventStream`` parses what arrives (events, comments, ``retry:``, a lone ``id:``) into a queue the test reads
with a deadline; it notes when the server ended the stream.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

CHANGES = "/api/v1/customers/changes"


@dataclass
class Event:
    id: str | None
    type: str
    data: str

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.data)
        return parsed


@dataclass
class EventStream:
    base_url: str
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    last_id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)
    problem: dict[str, Any] | None = None
    response_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._events: queue.Queue[Event | None] = queue.Queue()
        self._opened = threading.Event()
        self.ended = threading.Event()
        # http.client rather than httpx: closing its socket from the test's thread ends a blocked read at once.
        address = urlsplit(self.base_url)
        self._connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._opened.wait(30):
            raise AssertionError("the stream did not answer within 30 s")

    def _read(self) -> None:
        try:
            query = f"?{urlencode(self.params)}" if self.params else ""
            self._connection.request("GET", CHANGES + query, headers=self.headers)
            response = self._connection.getresponse()
            self.status = response.status
            self.response_headers = {name.lower(): value for name, value in response.getheaders()}
            if response.status != 200:
                self.problem = json.loads(response.read())
                return
            self._opened.set()
            # No timeout while following: heartbeats come every 15 s at most, and close() ends the read.
            assert self._connection.sock is not None
            self._connection.sock.settimeout(None)
            self._parse(line.decode().rstrip("\r\n") for line in response)
        except (OSError, http.client.HTTPException, ValueError, AttributeError):  # closed under it
            pass
        finally:
            self._opened.set()
            self.ended.set()
            self._events.put(None)

    def _parse(self, lines: Iterable[str]) -> None:
        fields: dict[str, str] = {}
        data: list[str] = []
        for line in lines:
            if line == "":
                if data:
                    self._events.put(
                        Event(fields.get("id", self.last_id), fields.get("event", "message"), "\n".join(data))
                    )
                fields, data = {}, []
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                self.comments.append(value)
            elif name == "data":
                data.append(value)
            elif name == "retry":
                self.retry = int(value)
            elif name in ("id", "event"):
                fields[name] = value
                if name == "id":
                    self.last_id = value

    def next(self, timeout: float = 10) -> Event:
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None
        if event is None:
            raise AssertionError("the stream ended")
        return event

    def take(self, count: int, timeout: float = 10) -> list[Event]:
        return [self.next(timeout) for _ in range(count)]

    def wait_for_end(self, timeout: float = 10) -> bool:
        return self.ended.wait(timeout)

    def close(self) -> None:
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._connection.close()
        self._thread.join(timeout=10)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_stream(base_url: str, token: str, *, last_event_id: str | None = None, **params: str) -> EventStream:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    return EventStream(base_url, headers, params)
