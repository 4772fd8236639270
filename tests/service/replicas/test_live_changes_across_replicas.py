"""Live changes across two replicas: a change committed on one reaches the streams on the other within the
contract's second, also when the other's LISTEN connection was lost (its poll finds it); and a sign-out on
one ends the caller's stream on the other."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.customers.events import LISTENER_APPLICATION_NAME
from tests.service.api.event_streams import open_stream
from tests.service.replicas.conftest import Accounts, Replica

# The contract's bound for a change to reach every replica's streams.
WITHIN_SECONDS = 1.0


def _token(replica: Replica, email: str) -> tuple[str, str]:
    answer = replica.sign_in(email)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["access_token"], body["refresh_token"]


def _create(replica: Replica, token: str, customer_id: str) -> float:
    """Create a customer on ``replica``; when its answer came (the change had committed by then)."""
    body = {"id": customer_id, "name": "Ada", "surname": "Lovelace"}
    response = replica.client.post("/api/v1/customers", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    return time.monotonic()


async def test_a_change_on_one_replica_reaches_a_stream_on_the_other_within_a_second(
    replicas: tuple[Replica, Replica], accounts: Accounts, clean_database: AsyncEngine
) -> None:
    a, b = replicas
    email = await accounts.create()
    token_a, _ = _token(a, email)
    token_b, _ = _token(b, email)
    with open_stream(b.base_url, token_b) as stream:
        assert stream.status == 200
        for n in range(5):
            committed = _create(a, token_a, f"C-{n}")
            event = stream.next(timeout=10)
            delay = time.monotonic() - committed
            assert event.body["data"]["id"] == f"C-{n}"
            assert delay < WITHIN_SECONDS, f"C-{n} took {delay:.3f} s"

        # Without B's LISTEN connection (a failover, a cut), its poll still finds the change in time.
        async with clean_database.connect() as connection:
            killed = await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name LIKE :name"
                ),
                {"name": f"{LISTENER_APPLICATION_NAME}:%"},
            )
            assert killed.all(), "no live changes listener was connected"
        for n in range(5, 8):
            committed = _create(a, token_a, f"C-{n}")
            event = stream.next(timeout=10)
            assert event.body["data"]["id"] == f"C-{n}"
            assert time.monotonic() - committed < WITHIN_SECONDS


async def test_signing_out_on_one_replica_ends_the_stream_on_the_other(
    replicas: tuple[Replica, Replica], accounts: Accounts
) -> None:
    a, b = replicas
    email = await accounts.create()
    other_access, other_refresh = _token(a, email)
    token_b, refresh_b = _token(b, email)
    with open_stream(b.base_url, token_b) as stream:
        assert stream.status == 200
        # Another session of the same user ends: this stream goes on.
        assert a.client.post("/api/v1/auth/revoke", data={"token": other_refresh}).status_code == 200
        _create(b, token_b, "C-1")
        assert stream.next(timeout=10).body["data"]["id"] == "C-1"
        # Its own session signed out on A: it ends on B.
        assert a.client.post("/api/v1/auth/revoke", data={"token": refresh_b}).status_code == 200
        assert stream.wait_for_end(5.0), "the stream outlived its session"
        assert stream.comments[-1] == "access ended"
    assert a.get("/api/v1/customers", other_access).status_code == 401
