"""How far a reload got, shown to the admin who asked by editing one message.

The ingest runs in a worker thread and reports each stage there; the edits are made on the
event loop, at most one per `EDIT_INTERVAL_SECONDS` (Telegram limits edits per chat), and a
report that changes nothing in the text is not sent. An edit that fails is logged and
forgotten: progress is a courtesy, the reload's own reply is what counts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from telegram import Message
from telegram.error import TelegramError

from bot.messages import Messages

log = logging.getLogger(__name__)

EDIT_INTERVAL_SECONDS = 3.0
_STAGES = ("reading", "embedding", "writing")


class ReloadProgress:
    """An `IngestProgress` (retrieval.models) that edits `message` with the stage reached."""

    def __init__(
        self,
        message: Message,
        texts: Messages,
        loop: asyncio.AbstractEventLoop,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._message = message
        self._texts = texts
        self._loop = loop
        self._clock = clock
        self._lock = threading.Lock()
        self._last_edit = clock()  # the message was just sent: no edit at once
        self._shown = message.text or ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in _STAGES:
            return
        text = self._texts.get(f"reload_progress_{stage}", done=done, total=total)
        with self._lock:
            now = self._clock()
            # Within the interval a report is skipped: the next one, or the reload's reply,
            # shows where it got.
            if text == self._shown or now - self._last_edit < EDIT_INTERVAL_SECONDS:
                return
            self._last_edit, self._shown = now, text
        asyncio.run_coroutine_threadsafe(self._edit(text), self._loop)

    async def _edit(self, text: str) -> None:
        try:
            await self._message.edit_text(text)
        except TelegramError as error:
            log.info("reload progress not shown (%s)", error)
