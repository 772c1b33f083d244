"""How handlers reach the services: one typed object, through a typed callback context.

This is python-telegram-bot's `contexttypesbot.py` pattern: `context.services` instead of an
untyped `bot_data["..."]` lookup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.subscriptions import SubscriptionStore
from config import Settings
from retrieval.answer_log import AnswerLog
from retrieval.audit import AuditLog
from retrieval.conversations import Conversations
from retrieval.service import KnowledgeBase


class BriefingGuard:
    """Lets one briefing per chat and topic through in a window: a burst of /brief commands
    (several people tapping it at once) gets one answer."""

    def __init__(self, window: float = 60.0) -> None:
        self._window = window
        self._last: dict[tuple[int, str], float] = {}

    def allow(self, chat_id: int, topic: str | None) -> bool:
        now = time.monotonic()
        key = (chat_id, (topic or "").strip().lower())
        if now - self._last.get(key, -self._window) < self._window:
            return False
        self._last = {k: t for k, t in self._last.items() if now - t < self._window}
        self._last[key] = now
        return True


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    knowledge: KnowledgeBase
    answers: AnswerLog
    conversations: Conversations
    audit: AuditLog
    briefing_guard: BriefingGuard
    subscriptions: SubscriptionStore

    @classmethod
    def create(cls, settings: Settings, knowledge: KnowledgeBase) -> Services:
        """The bot's services over a knowledge base; votes live in the data dir."""
        return cls(
            settings,
            knowledge,
            AnswerLog(settings.data_dir / "answers.sqlite"),
            Conversations(settings.history_turns),
            AuditLog(settings.data_dir / "audit.jsonl"),
            BriefingGuard(),
            SubscriptionStore(settings.data_dir / "subscriptions.sqlite"),
        )

    def close(self) -> None:
        self.knowledge.close()
        self.answers.close()
        self.subscriptions.close()


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
