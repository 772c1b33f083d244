"""Who may use the bot, and how fast: the allowlists and the per-user and per-chat question
limits (BRIEFBOT_ALLOWED_USER_IDS, BRIEFBOT_ALLOWED_CHAT_IDS, BRIEFBOT_*_QUESTIONS_PER_MINUTE).

Refusals are said once: a stranger writing ten times, or someone asking past the limit, gets
one short answer, then silence until it would change."""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.messages import user_messages

if TYPE_CHECKING:  # bot.context holds the policies below: imported for annotations only
    from bot.context import BriefContext

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
# Users and chats whose recent questions are kept before idle ones are swept out.
TRACKED_ASKERS = 10_000
# Refused ids remembered so each is told once; beyond this the oldest may be told again.
REMEMBERED_REFUSALS = 10_000


class _OnceEach:
    """Keys already told something, the oldest forgotten beyond a bound."""

    def __init__(self, limit: int = REMEMBERED_REFUSALS) -> None:
        self._limit = limit
        self._seen: OrderedDict[int, None] = OrderedDict()

    def first(self, key: int) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._limit:
            self._seen.popitem(last=False)
        return True


class AccessPolicy:
    """A private chat is served when its user is allowed. A group is served when it is on
    BRIEFBOT_ALLOWED_CHAT_IDS, every member of it; with no chat list, groups are served to
    allowed users. Empty lists allow everyone; admins are always allowed."""

    def __init__(
        self,
        allowed_users: tuple[int, ...],
        allowed_chats: tuple[int, ...],
        admins: tuple[int, ...],
    ) -> None:
        self._users = frozenset(allowed_users) | frozenset(admins) if allowed_users else None
        self._chats = frozenset(allowed_chats) if allowed_chats else None
        self._admins = frozenset(admins)
        self.strangers_told = _OnceEach()

    def allows_user(self, user_id: int | None) -> bool:
        return self._users is None or (user_id is not None and user_id in self._users)

    def allows_chat(self, chat_id: int) -> bool:
        return self._chats is None or chat_id in self._chats

    def allows(self, private: bool, chat_id: int, user_id: int | None) -> bool:
        if user_id is not None and user_id in self._admins:
            return True
        if private:
            return self.allows_user(user_id)
        if self._chats is not None:
            return chat_id in self._chats
        return self.allows_user(user_id)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A question over the limit: when one could be asked again, and whether to say so (the
    first refusal in a window is told; the rest are dropped quietly)."""

    retry_after: float
    tell: bool


class QuestionLimits:
    """Sliding one-minute windows of questions per user and per chat; 0 means no limit."""

    def __init__(
        self, per_user: int, per_chat: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = {"user": per_user, "chat": per_chat}
        self._clock = clock
        self._asked: dict[tuple[str, int], deque[float]] = {}
        self._told_until: dict[tuple[str, int], float] = {}

    def admit(self, user_id: int | None, chat_id: int) -> Refusal | None:
        """None: the question may be asked, and now counts; else a Refusal."""
        now = self._clock()
        keys = [("chat", chat_id)] + ([("user", user_id)] if user_id is not None else [])
        keys = [key for key in keys if self._limits[key[0]]]
        waits = [self._wait(key, now) for key in keys]
        if any(waits):
            retry_after = max(waits)
            told = any(self._told_until.get(key, 0.0) > now for key in keys)
            for key in keys:
                self._told_until[key] = now + retry_after
            return Refusal(retry_after, tell=not told)
        for key in keys:
            self._asked.setdefault(key, deque()).append(now)
        if len(self._asked) > TRACKED_ASKERS:  # forget who has not asked within the window
            for key in [
                k for k, asked in self._asked.items() if asked[-1] <= now - WINDOW_SECONDS
            ]:
                del self._asked[key]
                self._told_until.pop(key, None)
        return None

    @property
    def tracked(self) -> int:
        """Users and chats whose recent questions are kept now."""
        return len(self._asked)

    def _wait(self, key: tuple[str, int], now: float) -> float:
        """Seconds until `key` may ask again (0: now); forgets what left the window."""
        asked = self._asked.get(key)
        if asked is None:
            return 0.0
        while asked and asked[0] <= now - WINDOW_SECONDS:
            asked.popleft()
        if not asked:
            del self._asked[key]
            self._told_until.pop(key, None)
            return 0.0
        if len(asked) < self._limits[key[0]]:
            return 0.0
        return asked[0] + WINDOW_SECONDS - now


def seconds_to_wait(refusal: Refusal) -> int:
    return max(1, math.ceil(refusal.retry_after))


async def gate(update: Update, context: BriefContext) -> None:
    """Before every handler: a stranger gets one short refusal, a group that is not on the
    chat list is told once and left; neither reaches any other handler."""
    chat = update.effective_chat
    if chat is None:
        return
    policy = context.services.access
    user = update.effective_user
    private = chat.type == ChatType.PRIVATE
    if policy.allows(private, chat.id, user.id if user else None):
        return
    if not private and not policy.allows_chat(chat.id):
        await _leave(update, context, chat.id)
    elif private or _addresses_bot(update, context):  # a group's other chatter is not ours
        await _refuse_stranger(update, policy, user.id if user else chat.id)
    raise ApplicationHandlerStop


def _addresses_bot(update: Update, context: BriefContext) -> bool:
    """A button, a command, a mention of the bot or a reply to it."""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    if message is None or message.text is None:
        return False
    me = f"@{context.bot.username}".lower()
    command = message.text.split(maxsplit=1)[0].lower() if message.text.strip() else ""
    replied = message.reply_to_message
    return (
        (command.startswith("/") and ("@" not in command or command.endswith(me)))
        or me in message.text.lower()
        or (
            replied is not None
            and replied.from_user is not None
            and replied.from_user.id == context.bot.id
        )
    )


async def _refuse_stranger(update: Update, policy: AccessPolicy, user_id: int) -> None:
    # In the user's Telegram language: a stranger's chat has no /language choice to read.
    refusal = user_messages(update).get("not_allowed")
    if update.callback_query is not None:
        await update.callback_query.answer(refusal)
        return
    message = update.effective_message
    if message is not None and policy.strangers_told.first(user_id):
        log.info("refused user %s (not on BRIEFBOT_ALLOWED_USER_IDS)", user_id)
        await message.reply_text(refusal)


async def _leave(update: Update, context: BriefContext, chat_id: int) -> None:
    """Say why once, then leave; a status update saying the bot already left needs nothing."""
    member = update.my_chat_member
    if member is not None and member.new_chat_member.status in (
        ChatMemberStatus.LEFT,
        ChatMemberStatus.BANNED,
    ):
        return
    log.info("leaving chat %s (not on BRIEFBOT_ALLOWED_CHAT_IDS)", chat_id)
    try:
        # In the language of whoever added the bot: a group off the list chose none.
        notice = user_messages(update).get("group_not_allowed", chat_id=chat_id)
        await context.bot.send_message(chat_id, notice)
    except TelegramError as error:  # e.g. no right to write here: leave all the same
        log.info("could not say why before leaving chat %s (%s)", chat_id, error)
    await context.bot.leave_chat(chat_id)
