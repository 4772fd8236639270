"""Throttling of failed password sign-ins through the use case, with a clock the test moves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidGrant, TooManyAttempts
from tests.unit.conftest import PASSWORD, Core

WRONG = "not the password, but long"


async def test_an_account_is_throttled_per_client_and_the_owner_elsewhere_is_not(core: Core) -> None:
    user = await core.user("ada@example.com")
    sign_in = core.app.sign_in_with_password()
    for _ in range(5):
        with pytest.raises(InvalidGrant):
            await sign_in.execute(user.email, WRONG, client="203.0.113.5")
    core.clock.advance(timedelta(seconds=30))

    # Even the right password waits now, from that client: the answer must not reveal it is right.
    with pytest.raises(TooManyAttempts) as refused:
        await sign_in.execute(user.email, PASSWORD, client="203.0.113.5")
    assert refused.value.retry_after == 15 * 60 - 30
    # The same account from elsewhere, and another account from that client, are not affected.
    assert (await sign_in.execute(user.email, PASSWORD, client="198.51.100.7")).access_token
    other = await core.user("grace@example.com")
    assert (await sign_in.execute(other.email, PASSWORD, client="203.0.113.5")).access_token

    # Once the window has passed, the right password works again and clears the count.
    core.clock.advance(timedelta(minutes=15))
    assert (await sign_in.execute(user.email.upper(), PASSWORD, client="203.0.113.5")).access_token
    for _ in range(4):
        with pytest.raises(InvalidGrant):
            await sign_in.execute(user.email, WRONG, client="203.0.113.5")
    assert (await sign_in.execute(user.email, PASSWORD, client="203.0.113.5")).access_token


async def test_one_client_trying_many_accounts_is_throttled(core: Core) -> None:
    sign_in = core.app.sign_in_with_password()
    for number in range(30):
        with pytest.raises(InvalidGrant):
            await sign_in.execute(f"nobody-{number}@example.com", WRONG, client="203.0.113.5")
    with pytest.raises(TooManyAttempts):
        await sign_in.execute("someone-else@example.com", WRONG, client="203.0.113.5")
    with pytest.raises(InvalidGrant):
        await sign_in.execute("someone-else@example.com", WRONG, client="198.51.100.7")


async def test_one_account_gets_at_most_100_failures_an_hour_from_any_number_of_addresses(core: Core) -> None:
    """ASVS 5.0 V6.3.1: no more than 100 failed attempts per hour on one account, however many clients try."""
    user = await core.user("ada@example.com")
    sign_in = core.app.sign_in_with_password()
    for attempt in range(100):
        # Four from each of 25 addresses: under the per-address limits, so only the per-account one counts.
        with pytest.raises(InvalidGrant):
            await sign_in.execute(user.email, WRONG, client=f"198.51.100.{attempt // 4}")
    core.clock.advance(timedelta(minutes=20))

    with pytest.raises(TooManyAttempts) as refused:
        await sign_in.execute(user.email, WRONG, client="203.0.113.99")
    assert refused.value.retry_after == 40 * 60
    # Past the old 15-minute window and up to the hour's end, the account still waits, the right password too.
    core.clock.advance(timedelta(minutes=39))
    with pytest.raises(TooManyAttempts):
        await sign_in.execute(user.email, PASSWORD, client="203.0.113.100")
    core.clock.advance(timedelta(minutes=1))
    assert (await sign_in.execute(user.email, PASSWORD, client="203.0.113.100")).access_token
