"""The admin's reload message, edited with the stage reached from the ingest's thread, no
more often than Telegram's edit limits allow."""

from __future__ import annotations

import asyncio

from telegram import Bot

from bot.messages import Messages
from bot.progress import EDIT_INTERVAL_SECONDS, ReloadProgress
from tests.bot.conftest import TOKEN
from tests.fakes.bot_api import FakeBotApi


async def test_progress_from_the_ingest_thread_edits_one_message_within_the_limit(
    api: FakeBotApi,
) -> None:
    now = [0.0]
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        message = await bot.send_message(7, Messages("de").get("reloading"))
        progress = ReloadProgress(
            message, Messages("de"), asyncio.get_running_loop(), lambda: now[0]
        )

        def ingest() -> None:  # as the worker thread of a reload reports
            progress("reading", 1, 1)  # at once after the message: skipped
            now[0] += EDIT_INTERVAL_SECONDS
            progress("embedding", 10, 100)  # shown
            now[0] += 1
            progress("embedding", 20, 100)  # within the interval: skipped
            now[0] += EDIT_INTERVAL_SECONDS
            progress("embedding", 90, 100)  # shown
            progress("unknown-stage", 1, 1)  # a stage this version does not know: ignored

        await asyncio.to_thread(ingest)
        first = await api.wait_for("editMessageText")
        second = await api.wait_for("editMessageText")
    assert first.params["message_id"] == message.message_id
    assert first.params["text"] == Messages("de").get(
        "reload_progress_embedding", done=10, total=100
    )
    assert second.params["text"] == Messages("de").get(
        "reload_progress_embedding", done=90, total=100
    )
    assert len(api.calls_of("editMessageText")) == 2
