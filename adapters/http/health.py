"""/health: liveness (the process can serve) and readiness (its dependencies answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from msgspec import Struct

Check = Callable[[], Awaitable[None]]


class HealthOut(Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class Readiness:
    """The readiness state: named dependency checks, and whether the process is shutting down."""

    def __init__(
        self,
        checks: Mapping[str, Check],
        timeout_seconds: float = 2.0,
        shutdown_requested: Callable[[], bool] = lambda: False,
    ) -> None:
        self.checks = dict(checks)
        self.timeout_seconds = timeout_seconds
        self._stopping = False
        self._shutdown_requested = shutdown_requested

    @property
    def shutting_down(self) -> bool:
        return self._stopping or self._shutdown_requested()

    @shutting_down.setter
    def shutting_down(self, value: bool) -> None:
        self._stopping = value

    async def run(self) -> dict[str, str]:
        async def one(check: Check) -> str:
            try:
                await asyncio.wait_for(check(), self.timeout_seconds)
            except Exception:  # readiness reports any failure; the reason is in the logs
                return "failing"
            return "ok"

        names = list(self.checks)
        results = await asyncio.gather(*(one(self.checks[name]) for name in names))
        return dict(zip(names, results, strict=True))


class HealthController(Controller):
    path = "/health"
    tags = ["Operations"]
    include_in_schema = True

    @get(summary="Liveness")
    async def health(self) -> HealthOut:
        return HealthOut("ok")

    @get("/live", summary="Liveness")
    async def live(self) -> HealthOut:
        return HealthOut("ok")

    @get(
        "/ready",
        summary="Readiness: database and photo storage answer, not shutting down",
        responses={
            503: ResponseSpec(
                data_container=HealthOut,
                description="Not ready: a dependency is failing or the process is shutting down.",
                generate_examples=False,
            )
        },
    )
    async def ready(self, readiness: NamedDependency[Readiness]) -> Response[HealthOut]:
        checks = await readiness.run()
        if readiness.shutting_down:
            checks["shutdown"] = "in progress"
        healthy = not readiness.shutting_down and all(result == "ok" for result in checks.values())
        status = HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE
        return Response(HealthOut("ok" if healthy else "unavailable", checks), status_code=status)
