"""How updates share the bot: chats take turns fairly, and one chat cannot queue without end.

PTB's own bound on concurrent updates counts an update from the moment it is taken, so 200
messages from one chat, each waiting for that chat's earlier ones, used to hold every slot
while another user's question waited behind them. Here an update holds a running slot only
while it runs; while it waits for its chat's turn it holds nothing but its place in a queue
that is bounded per chat.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

# Updates PTB hands over at once; each waits cheaply (a task) for its chat and a running slot.
MAX_ACCEPTED_UPDATES = 4096

OverflowNotice = Callable[[Update], Awaitable[None]]


class FairUpdateProcessor(BaseUpdateProcessor):
    """Different chats run concurrently, at most `max_running` updates at a time; one chat's
    updates run one at a time in arrival order (a quick second question is never answered
    before the first). A chat with `max_queued_per_chat` updates already waiting or running
    gets its next ones dropped, and `on_overflow` once per burst to say so."""

    def __init__(
        self, max_running: int, max_queued_per_chat: int, on_overflow: OverflowNotice
    ) -> None:
        super().__init__(MAX_ACCEPTED_UPDATES)
        self._running = asyncio.Semaphore(max_running)
        self._max_queued = max_queued_per_chat
        self._on_overflow = on_overflow
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}  # updates waiting for or holding each chat's lock
        self._told: set[int] = set()  # chats told about the current burst

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._running:
                await coroutine
            return
        if self._queued.get(chat.id, 0) >= self._max_queued:
            await self._drop(update, chat.id, coroutine)
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._queued[chat.id] = self._queued.get(chat.id, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._queued[chat.id] -= 1
            if not self._queued[chat.id]:  # idle chats are forgotten, so the dicts stay small
                del self._queued[chat.id], self._locks[chat.id]
                self._told.discard(chat.id)

    async def _drop(self, update: object, chat_id: int, coroutine: Awaitable[Any]) -> None:
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never run; closed so Python does not warn it was never awaited
        log.info("chat %s has %d updates waiting; dropped one", chat_id, self._max_queued)
        if chat_id in self._told or not isinstance(update, Update):
            return
        self._told.add(chat_id)
        try:
            async with self._running:
                await self._on_overflow(update)
        except Exception:  # noqa: BLE001 (the notice is best effort; the drop is logged)
            log.warning("could not tell chat %s to slow down", chat_id, exc_info=True)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""
