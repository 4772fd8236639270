"""Fair use at the edge: every request under /api/v1 is counted against its caller before anything is done.

The caller is known first: the edge authenticates the bearer credential itself (an API key by its id, a user by
user id) and leaves the actor in the scope for the handler's ``actor`` dependency, so that nothing is
authenticated twice; anything else is counted by client address. The decision is the in-process limiter's
(``application/access/limiter.py``), with no I/O. A refusal is handed to Litestar (``refuse_over_quota``, a
before-request hook), so that the 429 is a problem+json like every other error and carries the CORS headers a
browser needs to read it. Both draft-11 headers go on every counted response (decision record 0033).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, cast

from litestar import Request

from adapters.http.access.authentication import bearer_credential, remember_actor
from adapters.http.edge.client_address import ClientAddresses
from application.access.authentication import Authenticate
from application.access.limiter import ADDRESS_CALLER, API_KEY_CALLER, USER_CALLER, Limiter, Verdict
from application.access.running_limit import RunningLimit
from domain.errors import QuotaExceeded

logger = logging.getLogger("crm.http")

API_PREFIX = "/api/v1"
# What may run at most RunningLimit.maximum at once per caller: they hold the database for long.
LONG_OPERATIONS = frozenset({("GET", "/api/v1/customers/export"), ("POST", "/api/v1/customers/import")})
# Nobody can say when a running export ends; a short wait, then ask again.
CONCURRENCY_RETRY_AFTER = 2
_REFUSAL_IN_SCOPE = "crm.quota_exceeded"
_OVER_QUOTA = "Too many requests for this caller's quota; wait Retry-After seconds and try again."
_TOO_MANY_RUNNING = "This caller already runs as many exports and imports as it may at once; try again when one ends."


@dataclass(slots=True)
class Counted:
    """One counted request: the headers its answer gets, and the long operation it holds, if any."""

    headers: list[tuple[bytes, bytes]]
    caller: str
    running: bool = False


class FairUse:
    """``limiter`` None: the rate limit is off (CRM_RATE_LIMIT_REQUESTS=0); exports and imports are still capped."""

    def __init__(
        self,
        limiter: Limiter | None,
        running: RunningLimit,
        authenticate: Callable[[], Authenticate],
        addresses: ClientAddresses,
    ) -> None:
        self._limiter = limiter
        self._running = running
        self._authenticate = authenticate
        self._addresses = addresses
        if limiter is not None:
            burst = limiter.burst.header_item()
            self._policies = {
                False: burst.encode(),
                True: f"{burst}, {limiter.daily.header_item()}".encode(),
            }

    @staticmethod
    def counts(path: str) -> bool:
        return path.startswith(API_PREFIX)

    async def count(self, scope: MutableMapping[str, Any]) -> Counted:
        """Count the request; a refusal is left in the scope for ``refuse_over_quota``."""
        caller = await self._caller(scope)
        counted = Counted([], caller)
        if self._limiter is not None:
            verdict = self._limiter.admit(caller)
            counted.headers = self._headers(verdict)
            if not verdict.admitted:
                scope[_REFUSAL_IN_SCOPE] = QuotaExceeded(_OVER_QUOTA, verdict.violated, verdict.retry_after)
                return counted
        if (scope["method"], scope["path"]) in LONG_OPERATIONS:
            if not self._running.try_start(caller):
                scope[_REFUSAL_IN_SCOPE] = QuotaExceeded(_TOO_MANY_RUNNING, ("concurrency",), CONCURRENCY_RETRY_AFTER)
            else:
                counted.running = True
        return counted

    def done(self, counted: Counted) -> None:
        if counted.running:
            self._running.finish(counted.caller)

    def _headers(self, verdict: Verdict) -> list[tuple[bytes, bytes]]:
        standings = verdict.standings
        # One standing (burst) for users and addresses; API keys have the daily one as well.
        daily = len(standings) > 1
        state = standings[0].header_item()
        if daily:
            state = f"{state}, {standings[1].header_item()}"
        return [(b"ratelimit-policy", self._policies[daily]), (b"ratelimit", state.encode())]

    async def _caller(self, scope: MutableMapping[str, Any]) -> str:
        header = _header(scope, b"authorization")
        credential = bearer_credential(header) if header else None
        if credential is not None:
            try:
                actor = await self._authenticate().execute(credential)
            except Exception:  # the handler authenticates again and answers the error properly
                actor = None
            if actor is not None:
                remember_actor(scope, actor)
                return f"{API_KEY_CALLER if actor.is_api_key else USER_CALLER}{actor.user_id}"
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        return ADDRESS_CALLER + self._addresses.behind(peer, lambda: _header(scope, b"x-forwarded-for"))


def _header(scope: MutableMapping[str, Any], name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return cast("bytes", value).decode("latin-1")
    return ""


def refuse_over_quota(request: Request[Any, Any, Any]) -> None:
    """Litestar's before-request hook: a request the edge refused ends here, before any handler work."""
    refusal = cast("dict[str, QuotaExceeded | None]", request.scope).get(_REFUSAL_IN_SCOPE)
    if refusal is not None:
        raise refusal
