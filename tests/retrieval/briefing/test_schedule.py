"""When scheduled briefings are due, and that among replicas each is delivered once, by the
holder of the scheduler lease, also across a failover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from retrieval.briefing.schedule import (
    CATCH_UP,
    LEASE_SECONDS,
    STALE_CLAIM_SECONDS,
    BriefingSchedule,
    due_slot,
)
from retrieval.state.database import Database
from retrieval.state.leases import Leases
from retrieval.state.subscriptions import Subscription, SubscriptionStore

BERLIN = ZoneInfo("Europe/Berlin")


def daily(time: str = "08:00", weekday: int | None = None, created: str = "") -> Subscription:
    kind = "weekly" if weekday is not None else "daily"
    return Subscription(1, -100, 0, kind, time, weekday, None, False, created)


def test_the_last_slot_at_or_before_now_in_the_chats_time_zone() -> None:
    now = datetime(2026, 12, 2, 7, 10, tzinfo=UTC)  # 08:10 in Berlin (CET)
    assert due_slot(daily(), BERLIN, now) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert due_slot(daily("08:30"), BERLIN, now) is None  # yesterday's is past the catch-up
    assert due_slot(daily(), ZoneInfo("UTC"), now) is None  # 08:00 UTC is still to come
    summer = datetime(2026, 7, 1, 6, 5, tzinfo=UTC)  # 08:05 in Berlin (CEST)
    assert due_slot(daily(), BERLIN, summer) == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


def test_weekly_slots_fall_on_their_weekday_only() -> None:
    wednesday = datetime(2026, 12, 2, 7, 5, tzinfo=UTC)
    assert due_slot(daily(weekday=2), BERLIN, wednesday) is not None
    assert due_slot(daily(weekday=0), BERLIN, wednesday) is None
    assert due_slot(daily(weekday=0), BERLIN, wednesday - timedelta(days=2)) is not None


def test_nothing_is_due_from_before_the_subscription_or_beyond_the_catch_up() -> None:
    slot = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    made_after = daily(created=(slot + timedelta(seconds=40)).isoformat())
    assert due_slot(made_after, BERLIN, slot + timedelta(minutes=1)) is None
    made_before = daily(created=(slot - timedelta(days=1)).isoformat())
    assert due_slot(made_before, BERLIN, slot + CATCH_UP) == slot
    assert due_slot(made_before, BERLIN, slot + CATCH_UP + timedelta(seconds=1)) is None


def at(when: datetime) -> float:
    return when.timestamp()


def test_replicas_deliver_each_slot_once_and_fail_over(database: Database) -> None:
    store = SubscriptionStore(database)
    subscription = store.add(-100, 0, "daily", "08:00", None, None, False, created_by=1)
    now = [at(datetime.now(UTC).replace(microsecond=0))]
    replicas = [
        BriefingSchedule(store, Leases(database, lambda: now[0]), name, lambda: now[0])
        for name in ("a", "b")
    ]
    first, second = replicas
    today = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    slot = today + timedelta(days=1)  # tomorrow 08:00 UTC: after the subscription was made
    now[0] = at(slot + timedelta(seconds=5))  # tomorrow, just after 08:00
    runs = first.due_runs()
    assert [run.subscription.id for run in runs] == [subscription.id]
    assert second.due_runs() == []  # not the lease holder
    first.finished(runs[0])
    assert first.due_runs() == []  # delivered already

    # The holder dies before the next day's delivery is finished: after its lease expires
    # the other takes over, and makes the unfinished delivery again once it is stale.
    now[0] = at(slot + timedelta(days=1, seconds=5))
    (claimed,) = first.due_runs()
    now[0] += LEASE_SECONDS + 1
    assert second.due_runs() == []  # it holds the lease now, but the claim is fresh
    now[0] += STALE_CLAIM_SECONDS
    (again,) = second.due_runs()
    assert again.slot == claimed.slot
    second.finished(again)
    assert second.due_runs() == []
    assert first.due_runs() == []  # and the old holder, back, does not get the lease back


def test_a_released_lease_is_taken_over_at_once(database: Database) -> None:
    leases = Leases(database)
    assert leases.acquire("scheduler", "a", 60)
    assert leases.acquire("scheduler", "a", 60)  # renewed
    assert not leases.acquire("scheduler", "b", 60)
    leases.release("scheduler", "a")
    assert leases.acquire("scheduler", "b", 60)
