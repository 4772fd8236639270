"""The delivery rules that need no network: the retry schedule, the signature, and which addresses are public."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from standardwebhooks import Webhook as StandardWebhook

from adapters.webhooks.sender import is_public
from application.integrations.delivery_worker import event_body, next_attempt, signed_headers
from application.integrations.webhooks import new_webhook_secret
from domain.webhooks import WebhookEvent

T0 = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)


def test_retries_back_off_exponentially_with_jitter_for_about_a_day() -> None:
    waits = [next_attempt(n, T0, T0, lambda: 0.5) for n in range(1, 6)]
    assert [due - T0 for due in waits if due] == [timedelta(seconds=s) for s in (10, 20, 40, 80, 160)]
    assert next_attempt(30, T0, T0, lambda: 0.5) == T0 + timedelta(hours=2)  # the longest wait
    assert next_attempt(1, T0, T0, lambda: 0.0) == T0 + timedelta(seconds=7.5)  # jitter: -25 %
    assert next_attempt(1, T0, T0, lambda: 1.0) == T0 + timedelta(seconds=12.5)  # +25 %
    # A day after the first try, the delivery has failed.
    assert next_attempt(20, T0, T0 + timedelta(hours=23), lambda: 0.5) is None
    tries, now = 0, T0
    while (due := next_attempt(tries + 1, T0, now, lambda: 0.5)) is not None:
        tries, now = tries + 1, due
    assert 15 <= tries <= 25
    assert timedelta(hours=22) <= now - T0 <= timedelta(hours=24)


def test_deliveries_are_signed_as_standard_webhooks_libraries_check() -> None:
    old, new = new_webhook_secret(), new_webhook_secret()
    event = WebhookEvent(uuid4(), "customer.created", "customer:C-1", T0, {"id": "C-1", "name": "Zoë"})
    body = event_body(event)
    timestamp = int(datetime.now(UTC).timestamp())
    headers = signed_headers([new, old], str(event.id), timestamp, body)
    for secret in (new, old):
        assert StandardWebhook(secret).verify(body, headers) == {
            "type": "customer.created",
            "timestamp": "2026-12-04T20:00:00Z",
            "data": {"id": "C-1", "name": "Zoë"},
        }
    with pytest.raises(Exception, match=r"[Ss]ignature"):
        StandardWebhook(new_webhook_secret()).verify(body, headers)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.100.100.200", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00:ec2::254", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_only_public_addresses_receive_deliveries(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public
