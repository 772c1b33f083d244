"""Recent turns per conversation, for understanding follow-ups, in the state database: a
follow-up is understood after a restart, and on another replica than the first question.

Bounded three ways: turns per conversation (BRIEFBOT_HISTORY_TURNS), age (a conversation idle
longer than the retention is forgotten) and count (the least recently used go first)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from sqlalchemy import Connection, delete, func, select

from retrieval.models import Turn
from retrieval.state.database import Database, conversations

MAX_CONVERSATIONS = 10_000
RETENTION_SECONDS = 24 * 3600.0
_PRUNE_EVERY = 100  # adds between count checks (a count is a scan; the age check is not)

ConversationKey = tuple[int, int]  # (chat id, forum topic thread or 0)


class Conversations:
    def __init__(
        self,
        database: Database,
        turns: int,
        retention_seconds: float = RETENTION_SECONDS,
        max_conversations: int = MAX_CONVERSATIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        self._turns = turns
        self._retention = retention_seconds
        self._max = max_conversations
        self._clock = clock
        self._adds = 0

    @staticmethod
    def _key(key: ConversationKey) -> str:
        chat_id, thread_id = key
        return f"{chat_id}:{thread_id}"

    def history(self, key: ConversationKey) -> list[Turn]:
        """The conversation's last turns, oldest first; [] when none or expired."""
        query = select(conversations.c.turns).where(
            conversations.c.key == self._key(key),
            conversations.c.updated_at >= self._clock() - self._retention,
        )
        with self._database.transaction() as connection:
            stored = connection.execute(query).scalar()
        return [Turn(question, answer) for question, answer in json.loads(stored or "[]")]

    def add(self, key: ConversationKey, turn: Turn) -> None:
        if self._turns == 0:
            return
        now = self._clock()
        with self._database.transaction() as connection:
            stored = connection.execute(
                select(conversations.c.turns, conversations.c.updated_at)
                .where(conversations.c.key == self._key(key))
                .with_for_update()  # PostgreSQL: two replicas add in turn, not over each other
            ).first()
            earlier = (
                json.loads(stored.turns)
                if stored and stored.updated_at >= now - self._retention
                else []
            )
            turns = [*earlier, [turn.question, turn.answer]][-self._turns :]
            self._database.upsert(
                connection,
                conversations,
                {
                    "key": self._key(key),
                    "turns": json.dumps(turns, ensure_ascii=False),
                    "updated_at": now,
                },
                keys=("key",),
            )
            connection.execute(
                delete(conversations).where(conversations.c.updated_at < now - self._retention)
            )
            self._adds += 1
            if self._adds % _PRUNE_EVERY == 0:
                self._prune_to_count(connection)

    def _prune_to_count(self, connection: Connection) -> None:
        count = connection.execute(select(func.count()).select_from(conversations)).scalar_one()
        if count <= self._max:
            return
        oldest = (
            select(conversations.c.key)
            .order_by(conversations.c.updated_at)
            .limit(count - self._max)
        )
        connection.execute(delete(conversations).where(conversations.c.key.in_(oldest)))

    def reset(self, key: ConversationKey) -> bool:
        with self._database.transaction() as connection:
            removed = connection.execute(
                delete(conversations).where(conversations.c.key == self._key(key))
            )
        return bool(removed.rowcount)
