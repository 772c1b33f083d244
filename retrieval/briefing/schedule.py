"""When scheduled briefings are due, and which process delivers them.

Every replica asks `due_runs()` every few seconds; only the holder of the scheduler lease gets
anything back, and each delivery (a subscription at one scheduled time) is claimed in the
database before it is made, so it is made once. When the holder dies its lease expires and
another replica takes over; a delivery it claimed but never finished is claimed again, and
one whose time passed while no replica held the lease is still made within `CATCH_UP`.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retrieval.state.leases import Leases
from retrieval.state.subscriptions import Subscription, SubscriptionStore

SCHEDULER_LEASE = "scheduler"
LEASE_SECONDS = 45.0  # a dead holder is replaced within this and one tick
TICK_SECONDS = 15.0
CATCH_UP = timedelta(minutes=30)  # a briefing later than this is skipped, not sent late
STALE_CLAIM_SECONDS = 300.0  # a claimed delivery not finished by then is made again


def due_slot(subscription: Subscription, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The latest scheduled time of a timed subscription at or before `now` (UTC), when it
    is within CATCH_UP of now and not before the subscription was made; else None."""
    if subscription.kind == "changes" or not subscription.time:
        return None
    hours, minutes = (int(part) for part in subscription.time.split(":"))
    local_now = now.astimezone(zone)
    for days_back in range(8):
        day = (local_now - timedelta(days=days_back)).date()
        if subscription.weekday is not None and day.weekday() != subscription.weekday:
            continue
        slot = datetime.combine(day, clock_time(hours, minutes), tzinfo=zone).astimezone(UTC)
        if slot <= now:
            break
    else:
        return None
    if now - slot > CATCH_UP:
        return None
    if subscription.created_at and slot < datetime.fromisoformat(subscription.created_at):
        return None
    return slot


def instance_name() -> str:
    """This process among the replicas, for leases and claims (and for an operator's eye)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class Run:
    subscription: Subscription
    slot: str  # the scheduled time, ISO 8601 UTC


class BriefingSchedule:
    """The methods block; call them from a worker thread in async code."""

    def __init__(
        self,
        store: SubscriptionStore,
        leases: Leases,
        holder: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._leases = leases
        self.holder = holder
        self._clock = clock

    def due_runs(self) -> list[Run]:
        """Deliveries due now and claimed by this process; [] unless it holds the lease."""
        if not self._leases.acquire(SCHEDULER_LEASE, self.holder, LEASE_SECONDS):
            return []
        now = self._clock()
        when = datetime.fromtimestamp(now, UTC)
        runs = []
        zones = self._store.timezones()
        for subscription in self._store.all():
            try:
                zone = ZoneInfo(zones.get(subscription.chat_id, "UTC"))
            except (ZoneInfoNotFoundError, ValueError):  # the zone left the OS's database
                zone = ZoneInfo("UTC")
            slot = due_slot(subscription, zone, when)
            if slot is None:
                continue
            key = slot.isoformat()
            if self._store.claim_run(subscription.id, key, self.holder, now, STALE_CLAIM_SECONDS):
                runs.append(Run(subscription, key))
        return runs

    def finished(self, run: Run) -> None:
        self._store.finish_run(run.subscription.id, run.slot, self._clock())
