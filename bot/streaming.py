"""Showing an answer while the model writes it, then replacing it with the checked answer.

Private chats get Bot API message drafts (an animated, ephemeral preview); groups get one
message edited at most every 1.5 s. A flood-control answer (RetryAfter) pauses the previews
instead of blocking the answer; the final message is always sent, with the rate limiter's
retries.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.chats import topic_thread
from bot.render import utf16_length

log = logging.getLogger(__name__)

DRAFT_INTERVAL = 0.5  # seconds between draft updates in a private chat
EDIT_INTERVAL = 1.5  # seconds between edits in a group, kind to Telegram's flood limits
PREVIEW_LIMIT = 3900  # a preview shows the end of a long text, under the 4096 limit
NO_RETRIES = 0  # AIORateLimiter retries for a preview: skipped, never waited for


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

    async def finish(self, parts: list[str], keyboard: InlineKeyboardMarkup) -> None:
        """The checked answer: the preview message becomes its first part, or all are sent."""
        pending = list(parts)
        if self._placeholder is not None:
            first = pending.pop(0)
            try:
                await self._bot.edit_message_text(
                    first,
                    self._question.chat_id,
                    self._placeholder.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard if not pending else None,
                )
            except BadRequest as error:  # e.g. the preview was deleted: send the answer anew
                log.info("could not replace the preview (%s); sending the answer", error)
                await self.discard()
                pending.insert(0, first)
        for index, part in enumerate(pending):
            await self._question.reply_text(
                part,
                parse_mode=ParseMode.HTML,
                do_quote=(index == 0 and self._placeholder is None) or not self._private,
                reply_markup=keyboard if index == len(pending) - 1 else None,
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
