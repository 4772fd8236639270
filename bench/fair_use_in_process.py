"""What the limiter adds to one request, measured on its own code where a shared machine's noise cannot hide it.

``FairUse.count`` (adapters/http/edge/fair_use.py) on one request's scope, the limiter off and on (a quota never
reached), timed in this process's CPU time (others on the machine do not count) with ``timeit``'s best of
several repeats. The difference is the limiter's cost per request: GCRA, the two headers, the counter.
(Authenticating at the edge costs the same in both: the handler no longer does it.)
``bench/fair_use.py`` puts it against a whole request's CPU time on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import time
import timeit
from collections.abc import Callable
from typing import Any

from adapters.http.edge.client_address import ClientAddresses
from adapters.http.edge.fair_use import FairUse
from application.access.authentication import Authenticate
from application.access.limiter import Limiter
from application.access.running_limit import RunningLimit
from domain.rate_limits import Policy

SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "GET",
    "path": "/api/v1/customers/C-0001",
    "client": ("192.0.2.10", 50000),
    "headers": [(b"host", b"crm"), (b"accept", b"application/json"), (b"user-agent", b"bench")],
}


def _no_authentication() -> Authenticate:
    raise AssertionError("a request without a credential is never authenticated")


def seconds_per_request(number: int = 20_000, repeat: int = 7) -> dict[str, float]:
    """Best seconds per ``FairUse.count``, by "limiter off" | "limiter on"."""
    limiters = {"limiter off": None, "limiter on": Limiter(Policy("burst", 1_000_000, 10), Policy("daily", 1, 86_400))}
    best: dict[str, float] = {}
    for name, limiter in limiters.items():
        fair_use = FairUse(limiter, RunningLimit(), _no_authentication, ClientAddresses())
        # CPU time of this process: others on the machine do not count.
        timings = timeit.repeat(_counting(fair_use), number=number, repeat=repeat, timer=time.process_time)
        best[name] = min(timings) / number
    return best


def _counting(fair_use: FairUse) -> Callable[[], None]:
    def count() -> None:
        # Without a credential nothing is awaited: the coroutine runs to its end on the first send, no loop needed.
        with contextlib.suppress(StopIteration):
            fair_use.count(dict(SCOPE)).send(None)

    return count


if __name__ == "__main__":
    for name, seconds in seconds_per_request().items():
        print(f"{name:12} {seconds * 1e6:6.2f} µs")
