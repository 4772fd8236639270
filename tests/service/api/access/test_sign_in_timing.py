"""Sign-in answers reveal nothing by their timing, and absurd input is refused before any hashing."""

from __future__ import annotations

import statistics
import time

import httpx
import pytest

from tests.service.api.conftest import Accounts
from tests.service.api.helpers import TOKEN_URL, password_grant

# 12 + 12 failures from one address stays under the per-client throttle (30), and no account
# gets more than 4 (the per-account-and-client limit is 5).
ROUNDS = 12


def _median_seconds(client: httpx.Client, emails: list[str], password: str) -> float:
    durations = []
    for round_number in range(ROUNDS):
        started = time.perf_counter()
        response = password_grant(client, emails[round_number % len(emails)], password)
        durations.append(time.perf_counter() - started)
        assert response.status_code == 400, response.text
    return statistics.median(durations)


@pytest.mark.timing
async def test_unknown_users_take_as_long_as_wrong_passwords(accounts: Accounts, client: httpx.Client) -> None:
    users = [str((await accounts.user()).email) for _ in range(3)]
    unknown = [f"nobody-{number}@example.com" for number in range(ROUNDS)]
    wrong_password = _median_seconds(client, users, "not the password at all")
    unknown_user = _median_seconds(client, unknown, "not the password at all")
    ratio = unknown_user / wrong_password
    print(f"median wrong password {wrong_password * 1000:.1f} ms, unknown user {unknown_user * 1000:.1f} ms")
    assert 0.6 < ratio < 1.67, ratio


def test_a_megabyte_password_is_refused_quickly(client: httpx.Client) -> None:
    started = time.perf_counter()
    response = client.post(
        TOKEN_URL, data={"grant_type": "password", "username": "a@example.com", "password": "p" * 1_000_000}
    )
    assert time.perf_counter() - started < 2
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
