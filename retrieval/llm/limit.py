"""A bound on chat-model requests in flight (BRIEFBOT_LLM_MAX_CONCURRENT), shared by the
answers streamed on the event loop and the briefings and follow-ups asked from threads.

Waiters are served in arrival order, each for at most what its deadline leaves: a burst of
questions queues here instead of piling hundreds of requests onto the model server."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field


class LimitTimeout(Exception):
    """No request slot became free within the time allowed."""


@dataclass(eq=False)
class _Waiter:
    wake: Callable[[], None]
    granted: bool = field(default=False)


class InFlightLimit:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("the limit must allow at least one request")
        self._free = size
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()

    @property
    def waiting(self) -> int:
        """Requests queued for a slot now."""
        with self._lock:
            return len(self._waiters)

    def _try_take(self) -> bool:
        """Under the lock: take a slot if one is free and nobody is ahead in the queue."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    def _release(self) -> None:
        with self._lock:
            if self._waiters:  # hand the slot straight to the first waiter
                waiter = self._waiters.popleft()
                waiter.granted = True
                waiter.wake()
            else:
                self._free += 1

    def _give_up(self, waiter: _Waiter) -> bool:
        """Leave the queue; True when the slot was granted meanwhile (the caller holds it)."""
        with self._lock:
            if waiter.granted:
                return True
            self._waiters.remove(waiter)
            return False

    @contextlib.contextmanager
    def slot(self, wait_at_most: float) -> Iterator[None]:
        """Hold a slot for one request, blocking this thread up to `wait_at_most` seconds."""
        event = threading.Event()
        waiter = _Waiter(event.set)
        with self._lock:
            queued = not self._try_take()
            if queued:
                self._waiters.append(waiter)
        if queued and not event.wait(max(0.0, wait_at_most)) and not self._give_up(waiter):
            raise LimitTimeout
        try:
            yield
        finally:
            self._release()

    @contextlib.asynccontextmanager
    async def async_slot(self, wait_at_most: float) -> AsyncIterator[None]:
        """Hold a slot for one request, waiting on the event loop up to `wait_at_most` seconds."""
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def set_woken() -> None:
            if not woken.done():
                woken.set_result(None)

        def wake() -> None:  # may run on another thread: hand over to the loop
            loop.call_soon_threadsafe(set_woken)

        waiter = _Waiter(wake)
        with self._lock:
            queued = not self._try_take()
            if queued:
                self._waiters.append(waiter)
        if queued:
            try:
                await asyncio.wait_for(asyncio.shield(woken), max(0.0, wait_at_most))
            except (TimeoutError, asyncio.CancelledError) as stopped:
                if self._give_up(waiter):
                    self._release()
                if isinstance(stopped, TimeoutError):
                    raise LimitTimeout from None
                raise
        try:
            yield
        finally:
            self._release()
