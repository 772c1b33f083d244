"""Chats' briefing subscriptions, time zones and languages, and what each chat was last
briefed on, in the state database, so they survive restarts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from retrieval.state.database import Database, briefed, briefing_runs, chats, subscriptions

Kind = Literal["daily", "weekly", "changes"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    chat_id: int
    thread_id: int  # 0: the chat itself, else a forum topic
    kind: Kind
    time: str  # "HH:MM" in the chat's time zone; "" for "changes"
    weekday: int | None  # 0 = Monday, for weekly
    topic: str | None
    quiet: bool  # say nothing when nothing is new
    created_at: str = ""  # ISO 8601, UTC: no briefing is due from before it existed

    def describe(self) -> str:
        when = {
            "daily": f"daily at {self.time}",
            "weekly": f"weekly on {WEEKDAYS[self.weekday or 0].title()} at {self.time}",
            "changes": "after every reload",
        }[self.kind]
        topic = (
            self.topic if not self.topic or len(self.topic) <= 60 else self.topic[:59] + "\u2026"
        )
        about = f" on \u201c{topic}\u201d" if topic else ""
        return f"#{self.id}: {when}{about}{' (quiet when nothing is new)' if self.quiet else ''}"


class SubscriptionStore:
    """The methods block; call them from a worker thread in async code."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add(
        self,
        chat_id: int,
        thread_id: int,
        kind: Kind,
        time: str,
        weekday: int | None,
        topic: str | None,
        quiet: bool,
        created_by: int,
    ) -> Subscription:
        created = datetime.now(UTC).isoformat(timespec="seconds")  # slots compare to seconds
        with self._database.transaction() as connection:
            identifier = connection.execute(
                insert(subscriptions)
                .values(
                    chat_id=chat_id,
                    thread_id=thread_id,
                    kind=kind,
                    time=time,
                    weekday=weekday,
                    topic=topic,
                    quiet=quiet,
                    created_by=created_by,
                    created_at=created,
                )
                .returning(subscriptions.c.id)
            ).scalar_one()
        return Subscription(
            identifier, chat_id, thread_id, kind, time, weekday, topic, quiet, created
        )

    def all(self, chat_id: int | None = None) -> list[Subscription]:
        c = subscriptions.c
        query = select(
            c.id, c.chat_id, c.thread_id, c.kind, c.time, c.weekday, c.topic, c.quiet, c.created_at
        )
        if chat_id is not None:
            query = query.where(c.chat_id == chat_id)
        with self._database.transaction() as connection:
            rows = connection.execute(query.order_by(c.id)).all()
        return [
            Subscription(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8]) for r in rows
        ]

    def remove(self, chat_id: int, subscription_id: int | None) -> list[int]:
        """Remove one subscription of the chat, or all of them; returns the ids removed."""
        condition = subscriptions.c.chat_id == chat_id
        if subscription_id is not None:
            condition &= subscriptions.c.id == subscription_id
        with self._database.transaction() as connection:
            removed = connection.execute(
                delete(subscriptions).where(condition).returning(subscriptions.c.id)
            ).scalars()
            return sorted(removed)

    def timezone(self, chat_id: int) -> str:
        with self._database.transaction() as connection:
            name = connection.execute(
                select(chats.c.timezone).where(chats.c.chat_id == chat_id)
            ).scalar()
        return name or "UTC"

    def timezones(self) -> dict[int, str]:
        """Every chat's time zone that was set (others are UTC), in one query."""
        with self._database.transaction() as connection:
            rows = connection.execute(select(chats.c.chat_id, chats.c.timezone)).all()
        return {chat_id: name for chat_id, name in rows if name}

    def set_timezone(self, chat_id: int, name: str) -> None:
        with self._database.transaction() as connection:
            self._database.upsert(
                connection, chats, {"chat_id": chat_id, "timezone": name}, keys=("chat_id",)
            )

    def language(self, chat_id: int) -> str | None:
        """The language chosen for this chat with /language, or None (each user's own)."""
        with self._database.transaction() as connection:
            return connection.execute(
                select(chats.c.language).where(chats.c.chat_id == chat_id)
            ).scalar()

    def set_language(self, chat_id: int, code: str | None) -> None:
        with self._database.transaction() as connection:
            self._database.upsert(
                connection, chats, {"chat_id": chat_id, "language": code}, keys=("chat_id",)
            )

    def briefed(
        self, chat_id: int, thread_id: int, topic: str | None
    ) -> tuple[dict[str, str], str] | None:
        """The documents (id: content hash) of the last briefing on this topic in this chat
        and topic thread, and when it was."""
        query = select(briefed.c.documents, briefed.c.briefed_at).where(
            briefed.c.chat_id == chat_id,
            briefed.c.thread_id == thread_id,
            briefed.c.topic == _topic_key(topic),
        )
        with self._database.transaction() as connection:
            row = connection.execute(query).first()
        return (json.loads(row[0]), row[1]) if row else None

    def record_briefing(
        self, chat_id: int, thread_id: int, topic: str | None, documents: dict[str, str]
    ) -> None:
        with self._database.transaction() as connection:
            self._database.upsert(
                connection,
                briefed,
                {
                    "chat_id": chat_id,
                    "thread_id": thread_id,
                    "topic": _topic_key(topic),
                    "documents": json.dumps(documents),
                    "briefed_at": _now(),
                },
                keys=("chat_id", "thread_id", "topic"),
            )

    def claim_run(
        self, subscription_id: int, slot: str, claimer: str, now: float, stale_after: float
    ) -> bool:
        """Claim one scheduled delivery (a subscription at one slot), so it is made once
        among replicas. A claim not marked sent within `stale_after` seconds (its claimer
        died while delivering) may be claimed again."""
        try:
            with self._database.transaction() as connection:
                connection.execute(
                    insert(briefing_runs).values(
                        subscription_id=subscription_id,
                        slot=slot,
                        claimed_by=claimer,
                        claimed_at=now,
                    )
                )
            return True
        except IntegrityError:
            pass
        with self._database.transaction() as connection:
            taken_over = connection.execute(
                update(briefing_runs)
                .where(
                    briefing_runs.c.subscription_id == subscription_id,
                    briefing_runs.c.slot == slot,
                    briefing_runs.c.sent_at.is_(None),
                    briefing_runs.c.claimed_at < now - stale_after,
                )
                .values(claimed_by=claimer, claimed_at=now)
            )
        return bool(taken_over.rowcount)

    def finish_run(self, subscription_id: int, slot: str, now: float) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                update(briefing_runs)
                .where(
                    briefing_runs.c.subscription_id == subscription_id,
                    briefing_runs.c.slot == slot,
                )
                .values(sent_at=now)
            )

    def remove_chat(self, chat_id: int) -> None:
        """Forget a chat the bot can no longer write to."""
        with self._database.transaction() as connection:
            for table in (subscriptions, briefed, chats):
                connection.execute(delete(table).where(table.c.chat_id == chat_id))


def _topic_key(topic: str | None) -> str:
    return (topic or "").strip().lower()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="minutes")
