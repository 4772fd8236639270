"""Fair use over real HTTP on PostgreSQL: exactly the quota is admitted, every refusal is a quota-exceeded 429
with Retry-After after which the next request is admitted, the draft-11 headers count down for users, API keys
(with their daily policy) and anonymous callers, and health, metrics and docs are never limited."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm.settings import Settings
from tests.service.api.access.test_api_keys import as_key, make_key
from tests.service.api.conftest import Accounts
from tests.service.api.fair_use import client_from, limited_server, rate_limit
from tests.service.api.helpers import SignedIn, assert_problem, sign_in

CUSTOMERS = "/api/v1/customers"
QUOTA = 10
# A window so long against the test that no request is given back while it runs: the counts are exact.
LONG_WINDOW = 600


@pytest.fixture
def slow_refill(settings: Settings, clean_database: None) -> Iterator[str]:
    with limited_server(settings, rate_limit_requests=QUOTA, rate_limit_window_seconds=LONG_WINDOW) as url:
        yield url


async def signed_in(accounts: Accounts, base_url: str, *, admin: bool = False) -> SignedIn:
    user = await accounts.user(admin=admin)
    # Signing in is the anonymous caller's request; the /users/me that follows is the user's first.
    return sign_in(client_from(base_url), user.email)


def assert_quota_exceeded(response: httpx.Response, policy: str) -> int:
    """A 429 quota-exceeded naming ``policy``; the seconds of its Retry-After."""
    problem = assert_problem(response, 429)
    assert problem["type"].endswith("quota-exceeded"), problem
    assert problem["violated-policies"] == [policy], problem
    return int(response.headers["retry-after"])


async def test_twice_the_quota_gets_exactly_the_quota_and_every_refusal_says_when(
    slow_refill: str, accounts: Accounts
) -> None:
    user = await signed_in(accounts, slow_refill)
    answers = [user.get(CUSTOMERS) for _ in range(2 * QUOTA)]
    statuses = [answer.status_code for answer in answers]
    # The sign-in's /users/me was the first of the quota.
    assert statuses == [200] * (QUOTA - 1) + [429] * (QUOTA + 1)
    assert answers[0].headers["ratelimit-policy"] == f'"burst";q={QUOTA};w={LONG_WINDOW}'
    left = [rate_limit(answer)["burst"][0] for answer in answers[: QUOTA - 1]]
    assert left == list(range(QUOTA - 2, -1, -1))
    for refused in answers[QUOTA - 1 :]:
        assert assert_quota_exceeded(refused, "burst") == pytest.approx(LONG_WINDOW / QUOTA, abs=1)
        assert rate_limit(refused)["burst"][0] == 0


async def test_the_seconds_until_whole_count_down(slow_refill: str, accounts: Accounts) -> None:
    user = await signed_in(accounts, slow_refill)
    first = rate_limit(user.get(CUSTOMERS))["burst"]
    time.sleep(1.2)  # waiting is the point: t is a time
    later = rate_limit(user.get(CUSTOMERS))["burst"]
    # One more request (+60 s of debt), and more than a second gone by.
    assert later[0] == first[0] - 1
    assert first[1] + LONG_WINDOW // QUOTA - later[1] >= 1


async def test_after_waiting_retry_after_the_next_request_is_admitted(
    settings: Settings, clean_database: None, accounts: Accounts
) -> None:
    with limited_server(settings, rate_limit_requests=2, rate_limit_window_seconds=2) as url:
        user = await signed_in(accounts, url)  # /users/me took one of the two
        assert user.get(CUSTOMERS).status_code == 200
        refused = user.get(CUSTOMERS)
        wait = assert_quota_exceeded(refused, "burst")
        assert 1 <= wait <= 2
        time.sleep(wait)
        assert user.get(CUSTOMERS).status_code == 200


async def test_an_api_key_has_the_daily_policy_too(
    settings: Settings, clean_database: None, accounts: Accounts
) -> None:
    with limited_server(settings, rate_limit_requests=QUOTA, rate_limit_window_seconds=LONG_WINDOW,
                        api_key_daily_quota=3) as url:  # fmt: skip
        admin = await signed_in(accounts, url, admin=True)
        script = as_key(client_from(url), make_key(admin))
        answers = [script.get(CUSTOMERS) for _ in range(4)]
        assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
        assert answers[0].headers["ratelimit-policy"] == (f'"burst";q={QUOTA};w={LONG_WINDOW}, "daily";q=3;w=86400')
        assert [rate_limit(answer)["daily"][0] for answer in answers[:3]] == [2, 1, 0]
        assert [rate_limit(answer)["burst"][0] for answer in answers[:3]] == [9, 8, 7]
        assert assert_quota_exceeded(answers[3], "daily") > 3600
        # The admin's own budget is untouched by its key's.
        assert rate_limit(admin.get(CUSTOMERS))["burst"][0] == QUOTA - 3


def test_anonymous_callers_are_counted_by_address_and_get_the_headers(slow_refill: str) -> None:
    with client_from(slow_refill) as anonymous, client_from(slow_refill) as other:
        answers = [anonymous.get(CUSTOMERS) for _ in range(QUOTA + 1)]
        assert [answer.status_code for answer in answers] == [401] * QUOTA + [429]
        assert [rate_limit(answer)["burst"][0] for answer in answers[:QUOTA]] == list(range(QUOTA - 1, -1, -1))
        assert_quota_exceeded(answers[-1], "burst")
        # Nothing was done for the refused sign-in either; another address still may.
        refused = anonymous.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": "a", "password": "b"}
        )
        assert_quota_exceeded(refused, "burst")
        assert rate_limit(other.get(CUSTOMERS))["burst"][0] == QUOTA - 1


def test_health_metrics_and_docs_are_never_limited_nor_counted(slow_refill: str) -> None:
    with client_from(slow_refill) as anonymous:
        for _ in range(QUOTA):
            anonymous.get(CUSTOMERS)
        assert anonymous.get(CUSTOMERS).status_code == 429
        for path in ("/health/live", "/health/ready", "/metrics", "/docs", "/docs/openapi.json"):
            for _ in range(2):
                answer = anonymous.get(path)
                assert answer.status_code == 200, path
                assert "ratelimit" not in answer.headers, path
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(anonymous.get("/metrics").text)
            for sample in family.samples
        }
        decisions = "crm_rate_limit_decisions_total"
        # This module's server has served other callers too: at least what this test did is counted.
        assert samples[decisions, (("outcome", "admitted"), ("policy", "burst"))] >= QUOTA
        assert samples[decisions, (("outcome", "refused"), ("policy", "burst"))] >= 1
        assert samples["crm_rate_limit_callers", ()] >= 1
        assert 0 <= samples["crm_rate_limit_sync_lag_seconds", ()] < 30


def test_a_limit_of_0_turns_it_off(settings: Settings, clean_database: None) -> None:
    with limited_server(settings, rate_limit_requests=0) as url, client_from(url) as anonymous:
        # More than the default quota of 100.
        answers = [anonymous.get(CUSTOMERS) for _ in range(120)]
        assert {answer.status_code for answer in answers} == {401}
        assert not any("ratelimit" in answer.headers for answer in answers)
