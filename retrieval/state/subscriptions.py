"""Chats' briefing subscriptions, time zones, and what each chat was last briefed on, in
SQLite under the data dir, so they survive restarts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from retrieval.storage import SqliteStore

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


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS subscriptions ("
    " id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, thread_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL, time TEXT NOT NULL, weekday INTEGER, topic TEXT,"
    " quiet INTEGER NOT NULL, created_by INTEGER NOT NULL, created_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS chats (chat_id INTEGER PRIMARY KEY, timezone TEXT);"
    "CREATE TABLE IF NOT EXISTS briefed ("
    " chat_id INTEGER NOT NULL, thread_id INTEGER NOT NULL, topic TEXT NOT NULL,"
    " documents TEXT NOT NULL, briefed_at TEXT NOT NULL,"
    " PRIMARY KEY (chat_id, thread_id, topic));"
)


class SubscriptionStore(SqliteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

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
        with self._lock, self._connection:
            cursor = self._connection.execute(
                "INSERT INTO subscriptions (chat_id, thread_id, kind, time, weekday, topic, quiet,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (chat_id, thread_id, kind, time, weekday, topic, int(quiet), created_by, _now()),
            )
        identifier = cursor.lastrowid
        assert identifier is not None
        return Subscription(identifier, chat_id, thread_id, kind, time, weekday, topic, quiet)

    def all(self, chat_id: int | None = None) -> list[Subscription]:
        query = (
            "SELECT id, chat_id, thread_id, kind, time, weekday, topic, quiet FROM subscriptions"
        )
        arguments: tuple[int, ...] = ()
        if chat_id is not None:
            query += " WHERE chat_id = ?"
            arguments = (chat_id,)
        with self._lock:
            rows = self._connection.execute(query + " ORDER BY id", arguments).fetchall()
        return [Subscription(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]

    def remove(self, chat_id: int, subscription_id: int | None) -> list[int]:
        """Remove one subscription of the chat, or all of them; returns the ids removed."""
        removed = [s.id for s in self.all(chat_id) if subscription_id in (None, s.id)]
        with self._lock, self._connection:
            self._connection.executemany(
                "DELETE FROM subscriptions WHERE id = ?", [(i,) for i in removed]
            )
        return removed

    def timezone(self, chat_id: int) -> str:
        with self._lock:
            row = self._connection.execute(
                "SELECT timezone FROM chats WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        return row[0] if row and row[0] else "UTC"

    def set_timezone(self, chat_id: int, name: str) -> None:
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT INTO chats (chat_id, timezone) VALUES (?, ?)"
                " ON CONFLICT (chat_id) DO UPDATE SET timezone = excluded.timezone",
                (chat_id, name),
            )

    def briefed(
        self, chat_id: int, thread_id: int, topic: str | None
    ) -> tuple[dict[str, str], str] | None:
        """The documents (id: content hash) of the last briefing on this topic in this chat
        and topic thread, and when it was."""
        with self._lock:
            row = self._connection.execute(
                "SELECT documents, briefed_at FROM briefed"
                " WHERE chat_id = ? AND thread_id = ? AND topic = ?",
                (chat_id, thread_id, _topic_key(topic)),
            ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def record_briefing(
        self, chat_id: int, thread_id: int, topic: str | None, documents: dict[str, str]
    ) -> None:
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT OR REPLACE INTO briefed VALUES (?, ?, ?, ?, ?)",
                (chat_id, thread_id, _topic_key(topic), json.dumps(documents), _now()),
            )

    def remove_chat(self, chat_id: int) -> None:
        """Forget a chat the bot can no longer write to."""
        with self._lock, self._connection:
            for table in ("subscriptions", "briefed", "chats"):
                self._connection.execute(f"DELETE FROM {table} WHERE chat_id = ?", (chat_id,))  # noqa: S608


def _topic_key(topic: str | None) -> str:
    return (topic or "").strip().lower()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="minutes")
