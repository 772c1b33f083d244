"""The bound on chat-model requests in flight, shared by threads and the event loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from retrieval.llm.limit import InFlightLimit, LimitTimeout


async def queued(limit: InFlightLimit, count: int) -> None:
    """Wait (on outcomes, up to 30 s) until `count` requests queue for a slot."""
    deadline = time.monotonic() + 30
    while limit.waiting < count:
        assert time.monotonic() < deadline, f"only {limit.waiting} of {count} queued"
        await asyncio.sleep(0.005)


def test_a_thread_gives_up_at_its_limit_and_the_slot_stays_usable() -> None:
    limit = InFlightLimit(1)
    with limit.slot(1.0):
        with pytest.raises(LimitTimeout), limit.slot(0.01):
            pass  # pragma: no cover (never entered)
        assert limit.waiting == 0  # the one that gave up left the queue
    with limit.slot(0.01):
        pass


async def test_waiters_are_served_in_arrival_order_across_loop_and_threads() -> None:
    limit = InFlightLimit(1)
    order: list[str] = []

    def in_a_thread() -> None:
        with limit.slot(30):
            order.append("thread")

    async def on_the_loop(name: str) -> None:
        async with limit.async_slot(30):
            order.append(name)

    async with limit.async_slot(30):
        first = asyncio.create_task(on_the_loop("first"))
        await queued(limit, 1)
        thread = asyncio.create_task(asyncio.to_thread(in_a_thread))
        await queued(limit, 2)
        last = asyncio.create_task(on_the_loop("last"))
        await queued(limit, 3)
        assert order == []  # the slot is held: nobody ran
    await asyncio.gather(first, thread, last)
    assert order == ["first", "thread", "last"]


async def test_a_cancelled_waiter_does_not_keep_a_slot() -> None:
    limit = InFlightLimit(1)
    async with limit.async_slot(30):
        waiter = asyncio.create_task(_hold(limit))
        await queued(limit, 1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert limit.waiting == 0
    async with limit.async_slot(0.01):  # free again
        pass
    with pytest.raises(LimitTimeout):
        async with limit.async_slot(0.01), limit.async_slot(0.01):
            pass  # pragma: no cover (the second never gets in)


def test_two_slots_let_two_threads_in_at_once() -> None:
    limit = InFlightLimit(2)
    both_in = threading.Barrier(2, timeout=30)

    def request() -> None:
        with limit.slot(30):
            both_in.wait()  # breaks (and fails the test) unless both hold a slot together

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not both_in.broken


async def _hold(limit: InFlightLimit) -> None:
    async with limit.async_slot(30):
        await asyncio.sleep(30)  # pragma: no cover (cancelled while waiting)
