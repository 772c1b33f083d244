"""Showing an answer while the model writes it, then replacing it with the checked answer.

Private chats get Bot API message drafts (an animated, ephemeral preview); groups get one
message edited at most every 1.5 s. A flood-control answer (RetryAfter) pauses the previews
instead of blocking the answer. The final answer is never lost to one bad moment of the Bot
API: a 5xx, a dropped connection, a slow reply or flood control past the rate limiter's own
retries is retried with backoff (`deliver`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from html import escape
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.chats import topic_thread
from bot.render import utf16_length

log = logging.getLogger(__name__)

DRAFT_INTERVAL = 0.5  # seconds between draft updates in a private chat
EDIT_INTERVAL = 1.5  # seconds between edits in a group, kind to Telegram's flood limits
PREVIEW_LIMIT = 3900  # a preview shows the end of a long text, under the 4096 limit
NO_RETRIES = 0  # AIORateLimiter retries for a preview: skipped, never waited for
SEND_ATTEMPTS = 5  # tries of one message of a final answer
FIRST_BACKOFF = 0.5  # seconds before the second try, doubling after each failure
# A final message waits this long for the Bot API's reply before it counts as failed: a slow
# reply is awaited rather than abandoned, because a message sent again after a lost reply
# would arrive twice.
FINAL_READ_TIMEOUT = 30.0

Sent = TypeVar("Sent")


async def deliver(send: Callable[[], Awaitable[Sent]], what: str = "an answer") -> Sent:
    """`send()`, tried again after a transient failure of the Bot API: a network error, a
    timeout, a 5xx, or flood control beyond the rate limiter's retries. A request Telegram
    refuses for what it is (BadRequest, Forbidden, ...) is not retried."""
    backoff = FIRST_BACKOFF
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send()
        except BadRequest:
            raise  # a NetworkError subclass, but sending it again cannot help
        except RetryAfter as error:
            if attempt == SEND_ATTEMPTS:
                raise
            wait = _seconds(error.retry_after)
        except NetworkError as error:
            if attempt == SEND_ATTEMPTS:
                raise
            log.warning("sending %s failed (%s); trying again in %.1f s", what, error, backoff)
            wait, backoff = backoff, backoff * 2
        await asyncio.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


class LiveReply:
    """The reply to one question: previews while it is written, then the final parts."""

    def __init__(self, question: Message, bot: ExtBot[Any]) -> None:
        self._question = question
        self._bot = bot
        self._private = question.chat.type == ChatType.PRIVATE
        self._use_drafts = self._private
        self._draft_id = question.message_id  # non-zero, unique enough per chat
        self._thread = topic_thread(question) or None
        self._placeholder: Message | None = None
        self._next_preview = 0.0
        self._last_preview = ""
        self._stopped = False  # a preview failed: the final answer still comes

    async def preview(self, text: str) -> None:
        """Show the answer so far, unless the last preview was too recent."""
        loop = asyncio.get_running_loop()
        if self._stopped or loop.time() < self._next_preview or not text.strip():
            return
        shown = text.strip()
        while utf16_length(escape(shown, quote=False)) > PREVIEW_LIMIT:
            shown = shown[len(shown) // 4 :]  # keep the end, which is what is being written
        html_text = escape(shown, quote=False) + " \u2026"
        if html_text == self._last_preview:
            return
        try:
            await self._show(html_text)
        except RetryAfter as error:
            self._next_preview = loop.time() + _seconds(error.retry_after)
            return
        except BadRequest as error:
            if self._use_drafts:
                log.info("drafts unavailable (%s); previewing by edits", error)
                self._use_drafts = False
            else:
                log.info("stopped previewing (%s)", error)
                self._stopped = True
            return
        except TelegramError as error:
            log.info("stopped previewing (%s)", error)
            self._stopped = True
            return
        self._last_preview = html_text
        self._next_preview = loop.time() + (DRAFT_INTERVAL if self._use_drafts else EDIT_INTERVAL)

    async def _show(self, html_text: str) -> None:
        chat_id = self._question.chat_id
        if self._use_drafts:
            await self._bot.send_message_draft(
                chat_id,
                self._draft_id,
                html_text,
                parse_mode=ParseMode.HTML,
                rate_limit_args=NO_RETRIES,
            )
        elif self._placeholder is None:
            self._placeholder = await self._bot.send_message(
                chat_id,
                html_text,
                parse_mode=ParseMode.HTML,
                message_thread_id=self._thread,
                reply_parameters=ReplyParameters(self._question.message_id),
                rate_limit_args=NO_RETRIES,
            )
        else:
            await self._bot.edit_message_text(
                html_text,
                chat_id,
                self._placeholder.message_id,
                parse_mode=ParseMode.HTML,
                rate_limit_args=NO_RETRIES,
            )

    async def finish(self, parts: list[str], keyboard: InlineKeyboardMarkup | None) -> None:
        """The checked answer: the preview message becomes its first part, or all are sent.
        Each message is delivered through transient Bot API failures (`deliver`)."""
        pending = list(parts)
        placeholder = self._placeholder
        if placeholder is not None:
            first = pending.pop(0)
            try:
                await deliver(
                    partial(
                        self._bot.edit_message_text,
                        first,
                        self._question.chat_id,
                        placeholder.message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=keyboard if not pending else None,
                        read_timeout=FINAL_READ_TIMEOUT,
                    )
                )
            except TelegramError as error:  # e.g. the preview was deleted: send it anew
                log.info("could not replace the preview (%s); sending the answer", error)
                await self.discard()
                pending.insert(0, first)
        for index, part in enumerate(pending):
            quote = (index == 0 and self._placeholder is None) or not self._private
            markup = keyboard if index == len(pending) - 1 else None
            await deliver(
                partial(
                    self._question.reply_text,
                    part,
                    parse_mode=ParseMode.HTML,
                    do_quote=quote,
                    reply_markup=markup,
                    read_timeout=FINAL_READ_TIMEOUT,
                )
            )

    async def discard(self) -> None:
        """Take back an unchecked preview (best effort) when no checked answer replaces it."""
        placeholder, self._placeholder = self._placeholder, None
        if placeholder is not None:
            try:
                await self._bot.delete_message(self._question.chat_id, placeholder.message_id)
            except TelegramError:
                log.info("could not delete a preview in chat %s", self._question.chat_id)


def _seconds(retry_after: int | timedelta) -> float:
    return (
        retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
    )
