"""Failed sign-ins are throttled across replicas (api.md: "the limit is shared by all replicas").

A burst of wrong passwords for one account from one client, alternating between replicas A and B, is
answered 429 with ``Retry-After`` as soon as the shared limit (ThrottlePolicy.per_account_and_client:
5 in 15 minutes) is reached, which neither replica alone would have seen.
"""

from __future__ import annotations

from application.access.sign_in_throttle import ThrottlePolicy
from tests.service.replicas.conftest import Accounts, Replica

LIMIT = ThrottlePolicy().per_account_and_client
WINDOW_SECONDS = int(ThrottlePolicy().window.total_seconds())


async def test_a_burst_of_wrong_passwords_across_two_replicas_is_throttled(
    replicas: tuple[Replica, Replica], accounts: Accounts
) -> None:
    a, b = replicas
    email = await accounts.create()

    for attempt in range(LIMIT):
        replica = (a, b)[attempt % 2]
        response = replica.sign_in(email, "not the password at all")
        assert response.status_code == 400, (attempt, replica.name, response.text)
        assert response.json()["error"] == "invalid_grant"

    # Three failures on A and two on B: only a limit kept in common has seen five.
    for replica in (b, a):
        throttled = replica.sign_in(email, "not the password at all")
        assert throttled.status_code == 429, (replica.name, throttled.text)
        retry_after = int(throttled.headers["retry-after"])
        assert 0 < retry_after <= WINDOW_SECONDS

    # The right password waits too, on either replica: no guessing past the limit.
    assert b.sign_in(email).status_code == 429
    assert a.sign_in(email).status_code == 429


async def test_another_account_from_the_same_client_is_not_throttled(
    replicas: tuple[Replica, Replica], accounts: Accounts
) -> None:
    a, b = replicas
    burst, other = await accounts.create(), await accounts.create()
    for attempt in range(LIMIT + 1):
        (a, b)[attempt % 2].sign_in(burst, "not the password at all")
    assert b.sign_in(other).status_code == 200
