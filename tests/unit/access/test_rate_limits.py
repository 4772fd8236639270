"""Fair use's arithmetic and the per-process limiter: GCRA counts exactly, gives back one request per interval,
bursts up to the quota after a pause; API keys meet the daily policy too; between exchanges each of several replicas
admits only its share; a process that starts is charged with the replicas' history, slot by slot, without charging
what has recovered since; memory stays bounded; exports and imports are capped per caller."""

from __future__ import annotations

import math

from application.access.limiter import ADDRESS_CALLER, API_KEY_CALLER, USER_CALLER, Limiter
from application.access.running_limit import RunningLimit
from application.ports.admissions import PeerAdmissions
from domain.rate_limits import Policy, Standing, admits, charged, standing, taken

BURST = Policy("burst", 10, 10)  # one request back per second
DAILY = Policy("daily", 3, 86_400)
ADA = USER_CALLER + "ada"
KEY = API_KEY_CALLER + "k1"


class Ticks:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def limiter(ticks: Ticks, **kwargs: int) -> Limiter:
    return Limiter(BURST, DAILY, clock=ticks, **kwargs)


def test_the_policy_reads_as_the_draft_header() -> None:
    assert BURST.header_item() == '"burst";q=10;w=10'
    assert BURST.interval == 1.0


def test_gcra_admits_the_quota_at_once_then_one_per_interval() -> None:
    tat, now = 0.0, 100.0
    for _ in range(10):
        assert admits(BURST, tat, now)
        tat = charged(BURST, tat, now)
    assert not admits(BURST, tat, now)
    after = standing(BURST, tat, now)
    assert (after.remaining, after.reset, after.retry_after) == (0, 10, 1)
    assert admits(BURST, tat, now + 1.0)
    assert not admits(BURST, charged(BURST, tat, now + 1.0), now + 1.0)
    assert standing(BURST, tat, now + 10).remaining == 10


def test_remaining_and_reset_count_down_then_up() -> None:
    ticks = Ticks()
    limit = limiter(ticks)
    lefts = [limit.admit(ADA).standings[0] for _ in range(3)]
    assert [(item.remaining, item.reset) for item in lefts] == [(9, 1), (8, 2), (7, 3)]
    ticks.now += 2.5
    later = limit.admit(ADA).standings[0]
    assert (later.remaining, later.reset) == (8, 2)  # 0.5 s of debt left, plus this request's second
    assert later.header_item() == '"burst";r=8;t=2'


def test_a_refusal_names_the_policy_and_the_wait_and_costs_nothing() -> None:
    ticks = Ticks()
    limit = limiter(ticks)
    for _ in range(10):
        assert limit.admit(ADA).admitted
    refused = limit.admit(ADA)
    assert (refused.admitted, refused.violated, refused.retry_after) == (False, ("burst",), 1)
    ticks.now += 1.0
    assert limit.admit(ADA).admitted
    assert not limit.admit(ADA).admitted


def test_api_keys_have_the_daily_policy_too_and_others_do_not() -> None:
    limit = limiter(Ticks())
    verdicts = [limit.admit(KEY) for _ in range(4)]
    assert [verdict.admitted for verdict in verdicts] == [True, True, True, False]
    assert [verdict.standings[1].remaining for verdict in verdicts[:3]] == [2, 1, 0]
    assert verdicts[3].violated == ("daily",)
    assert verdicts[3].retry_after > 3600
    assert len(limit.admit(ADDRESS_CALLER + "192.0.2.1").standings) == 1


def test_with_two_replicas_each_admits_its_share_until_the_next_exchange() -> None:
    ticks = Ticks()
    limit = limiter(ticks)
    limit.absorb(PeerAdmissions(replicas=2, admitted={}), slot=1)
    assert [limit.admit(ADA).admitted for _ in range(6)] == [True] * 5 + [False]
    # The other replica took 3 meanwhile: 10 - 5 - 3 = 2 left, 1 for each.
    limit.absorb(PeerAdmissions(replicas=2, admitted={(ADA, 1): 3}), slot=1)
    assert [limit.admit(ADA).admitted for _ in range(2)] == [True, False]
    # The same report again charges nothing more.
    limit.absorb(PeerAdmissions(replicas=2, admitted={(ADA, 1): 3}), slot=1)
    assert limit.admit(ADA).admitted


HOUR = 3_600
SLOT = 1_000  # the current slot in the history tests; ``into`` seconds have passed since it began


def slot_hours_ago(hours: float) -> int:
    """The slot that began ``hours`` before the current one's start (whole slots of 60 s)."""
    return SLOT - round(hours * HOUR / 60)


def test_history_is_charged_from_each_slots_start_so_what_recovered_since_is_not_charged() -> None:
    limit = limiter(Ticks())
    # The daily quota of 3 came back one every 8 hours: of 3 spent 10 hours ago, 1 is back.
    limit.recall({(KEY, slot_hours_ago(10)): 3}, SLOT, into_slot=0.0)
    assert [limit.admit(KEY).admitted for _ in range(2)] == [True, False]
    # Charged at once instead (as an exchange charges what the others admit now), none would be.
    fresh = limiter(Ticks())
    fresh.absorb(PeerAdmissions(replicas=1, admitted={(KEY, slot_hours_ago(10)): 3}), SLOT)
    assert not fresh.admit(KEY).admitted


def test_history_is_charged_in_time_order() -> None:
    limit = limiter(Ticks())
    # 2 at -12 h leave the key owing until +4 h; 1 at -1 h owes 8 h more: until +12 h, so 1 of 3 is free now.
    # The other way round (-1 h first) it would owe until +23 h, and none would be.
    history = {(KEY, slot_hours_ago(1)): 1, (KEY, slot_hours_ago(12)): 2}
    limit.recall(history, SLOT, into_slot=0.0)
    first = limit.admit(KEY)
    assert first.admitted
    assert first.standings[1].remaining == 0
    assert first.standings[1].reset == 20 * HOUR
    assert not limit.admit(KEY).admitted


def test_the_burst_policy_counts_only_the_slots_its_window_reaches() -> None:
    ticks = Ticks()
    limit = limiter(ticks)
    # The current and the previous slot are the first exchange's, charged as of now: 3 s into the slot, 8 admitted
    # in it by a replica that just stopped are not given back as if they had been admitted at its start.
    recent = {(ADA, SLOT): 8}
    limit.recall(recent, SLOT, into_slot=3.0)
    assert limit.callers == 0
    limit.absorb(PeerAdmissions(replicas=1, admitted=recent), SLOT)
    assert limit.admit(ADA).standings[0].remaining == 1
    # A slot that ended before the 10-s window counts for nobody's burst, only for an API key's day.
    other = limiter(ticks)
    other.recall({(USER_CALLER + "bob", SLOT - 2): 10, (KEY, SLOT - 2): 2}, SLOT, into_slot=10.0)
    assert other.callers == 1
    verdict = other.admit(KEY)
    assert [item.remaining for item in verdict.standings] == [9, 0]


def test_after_the_history_the_exchanges_charge_the_recent_slots_once_each() -> None:
    limit = limiter(Ticks())
    limit.recall({(ADA, SLOT): 4, (KEY, slot_hours_ago(1)): 1}, SLOT, into_slot=0.0)
    limit.absorb(PeerAdmissions(replicas=1, admitted={(ADA, SLOT): 4}), SLOT)
    assert limit.admit(ADA).standings[0].remaining == 5  # 10 - 4 - this one
    limit.absorb(PeerAdmissions(replicas=1, admitted={(ADA, SLOT): 7}), SLOT)
    assert limit.admit(ADA).standings[0].remaining == 1  # 3 more charged now, and this one


def test_a_history_read_after_exchanges_leaves_out_the_slots_they_charged() -> None:
    limit = limiter(Ticks())
    # The first read failed; the exchanges since charged from the slot before theirs on, as it came.
    limit.absorb(PeerAdmissions(replicas=1, admitted={(KEY, SLOT - 1): 1}), SLOT)
    limit.recall({(KEY, SLOT - 1): 1, (KEY, SLOT): 1, (KEY, slot_hours_ago(2)): 1}, SLOT + 1, into_slot=0.0)
    verdict = limit.admit(KEY)
    assert verdict.admitted
    assert verdict.standings[1].remaining == 0  # 3 - the exchanged one - the one 2 hours back - this one
    assert not limit.admit(KEY).admitted


def test_what_this_replica_admitted_is_reported_once_and_again_after_a_failure() -> None:
    limit = limiter(Ticks())
    limit.absorb(PeerAdmissions(replicas=1, admitted={}), slot=7)
    limit.admit(ADA)
    limit.admit(ADA)
    report = limit.unreported()
    assert report == {(ADA, 7): 2}
    assert limit.unreported() == {}
    limit.admit(ADA)
    limit.unreport_failed(report)
    assert limit.unreported() == {(ADA, 7): 3}  # the newer total wins


def test_idle_callers_are_forgotten_and_memory_is_bounded() -> None:
    ticks = Ticks()
    limit = limiter(ticks, max_callers=8)
    limit.admit(ADA)
    ticks.now += 1.0
    limit.forget_idle()
    assert limit.callers == 0
    for number in range(20):
        limit.admit(f"{ADDRESS_CALLER}198.51.100.{number}")
    assert limit.callers <= 8


def test_at_most_two_long_operations_at_once_per_caller() -> None:
    running = RunningLimit()
    assert running.try_start(ADA) and running.try_start(ADA)
    assert not running.try_start(ADA)
    assert running.try_start(USER_CALLER + "bob")
    running.finish(ADA)
    assert running.try_start(ADA)
    assert running.refused == 1


def _standing_as_defined(policy: Policy, tat: float, now: float) -> Standing:
    """The draft's words as arithmetic, unhurried: what ``standing``, written for speed, must agree with."""
    debt = max(tat - now, 0.0)
    remaining = max(math.floor((policy.window - debt) / policy.interval + 1e-9), 0)
    wait = max(debt + policy.interval - policy.window, 0.0)
    return Standing(policy, min(remaining, policy.quota), math.ceil(debt - 1e-9), math.ceil(wait - 1e-9))


def test_the_fast_arithmetic_agrees_with_the_plain_one_everywhere() -> None:
    now = 1_000.0
    for policy in (BURST, DAILY, Policy("burst", 100, 1), Policy("burst", 7, 3)):
        # Whole, in debt, exactly on the boundary, past one window (charged for other replicas' admissions).
        for steps in range(-3, 3 * policy.quota + 3):
            tat = now + steps * policy.interval
            for jitter in (0.0, 1e-12, -1e-12, policy.interval / 3):
                assert standing(policy, tat + jitter, now) == _standing_as_defined(policy, tat + jitter, now)
                fits = admits(policy, tat + jitter, now)
                assert taken(policy, tat + jitter, now) == (charged(policy, tat + jitter, now) if fits else None)


def test_decisions_are_counted_for_the_metrics_by_policy() -> None:
    ticks = Ticks()
    limit = limiter(ticks)
    for _ in range(12):
        limit.admit(ADA)
    for _ in range(4):
        limit.admit(KEY)
    assert (limit.decisions.admitted, limit.decisions.admitted_daily) == (13, 3)
    assert limit.decisions.refusals == {"burst": 2, "daily": 1}
