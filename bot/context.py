"""How handlers reach the services: one typed object, through a typed callback context.

This is python-telegram-bot's `contexttypesbot.py` pattern: `context.services` instead of an
untyped `bot_data["..."]` lookup.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.access import AccessPolicy, QuestionLimits
from config import Settings
from retrieval.composition import State, open_state
from retrieval.service import KnowledgeBase


class BriefingGuard:
    """One briefing per chat, topic thread and subject at a time, and none again within a
    window after it was delivered: a burst of /brief commands (several people tapping it at
    once) gets one answer. A failed briefing can be asked again at once."""

    def __init__(self, window: float = 60.0) -> None:
        self._window = window
        self._running: set[tuple[int, int, str]] = set()
        self._delivered: dict[tuple[int, int, str], float] = {}

    @staticmethod
    def key(chat_id: int, thread_id: int, subject: str | None) -> tuple[int, int, str]:
        return (chat_id, thread_id, (subject or "").strip().lower())

    def begin(self, key: tuple[int, int, str]) -> bool:
        now = time.monotonic()
        self._delivered = {k: t for k, t in self._delivered.items() if now - t < self._window}
        if key in self._running or key in self._delivered:
            return False
        self._running.add(key)
        return True

    def end(self, key: tuple[int, int, str], delivered: bool) -> None:
        self._running.discard(key)
        if delivered:
            self._delivered[key] = time.monotonic()


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    knowledge: KnowledgeBase
    state: State  # answers and votes, conversations, audit log, subscriptions, leases
    briefing_guard: BriefingGuard
    # Held while an admin changes files in the sources dir and reloads, so two changes never
    # interleave (a reload would otherwise index another admin's half-done change).
    documents_lock: asyncio.Lock
    access: AccessPolicy
    question_limits: QuestionLimits

    @classmethod
    def create(cls, settings: Settings, knowledge: KnowledgeBase) -> Services:
        """The bot's services over a knowledge base; its state lives in the state database."""
        state = open_state(settings)
        return cls(
            settings,
            knowledge,
            state,
            BriefingGuard(),
            asyncio.Lock(),
            AccessPolicy(settings.allowed_user_ids, settings.allowed_chat_ids, settings.admin_ids),
            QuestionLimits(settings.user_questions_per_minute, settings.chat_questions_per_minute),
        )

    def close(self) -> None:
        self.knowledge.close()
        self.state.close()


class BotData:
    """The application-wide data PTB keeps; it holds the services and nothing else."""

    services: Services | None = None


class BriefContext(
    CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]
):
    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:  # build_application always sets it; this guards misuse
            raise RuntimeError("the application was built without services")
        return services


BriefApplication = Application[
    ExtBot[Any], BriefContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]
]
