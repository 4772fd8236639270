"""The live change hub's limits, on the in-memory profile: 5 streams per caller (the sixth → 429), the process's
maximum (→ 503), and none at all once the process is stopping (→ 503)."""

from __future__ import annotations

import pytest

from application.access.users import NewUser
from crm.container import Application, build_container
from crm.settings import Settings
from domain.errors import ServiceUnavailable, TooManyAttempts
from domain.sign_in import SYSTEM_OPERATOR, Actor

PASSWORD = "correct horse battery staple 42"


def _container(max_streams: int) -> Application:
    settings = Settings(
        environment="test",
        secret_key="live-change-limits-" + "l" * 40,
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
        live_changes_max_streams=max_streams,
    )
    return build_container(settings, in_memory=True)


async def _caller(container: Application, email: str) -> tuple[str, Actor]:
    await container.create_user().execute(SYSTEM_OPERATOR, NewUser(email, "Clara Clerk", PASSWORD))
    token = (await container.sign_in_with_password().execute(email, PASSWORD)).access_token
    return token, await container.authenticate().execute(token)


async def test_a_caller_may_have_five_streams_and_the_process_its_maximum() -> None:
    container = _container(max_streams=7)
    hub = container.live_changes()
    token, actor = await _caller(container, "clara@example.com")
    other_token, other = await _caller(container, "otto@example.com")
    try:
        for _ in range(5):
            await hub.open(token, actor, None)
        with pytest.raises(TooManyAttempts) as refused:
            await hub.open(token, actor, None)
        assert refused.value.retry_after > 0
        await hub.open(other_token, other, None)
        await hub.open(other_token, other, None)
        with pytest.raises(ServiceUnavailable):
            await hub.open(other_token, other, None)

        hub.close(next(stream for stream in hub.streams if stream.actor == other))
        await hub.open(other_token, other, None)
        assert len(hub.streams) == 7
    finally:
        await hub.aclose()


async def test_no_stream_opens_while_the_process_stops() -> None:
    container = _container(max_streams=10)
    hub = container.live_changes()
    token, actor = await _caller(container, "clara@example.com")
    await hub.aclose()

    with pytest.raises(ServiceUnavailable):
        await hub.open(token, actor, None)
