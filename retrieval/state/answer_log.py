"""Answers shown to users and the votes on them, in SQLite under the data dir.

Buttons under an answer refer to it by a short id (Telegram allows 64 bytes of callback
data), and the votes are kept with the question, answer and citations so bad answers can be
studied (`briefbot feedback --json`).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from retrieval.models import Answer
from retrieval.storage import SqliteStore

Vote = Literal["up", "down"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS answers ("
    " answer_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, answer TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS votes ("
    " answer_id TEXT NOT NULL REFERENCES answers(answer_id), user_id INTEGER NOT NULL,"
    " vote TEXT NOT NULL, voted_at TEXT NOT NULL, PRIMARY KEY (answer_id, user_id));"
)


class AnswerLog(SqliteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def record(self, answer: Answer) -> str:
        """Keep an answer; returns its id for buttons."""
        answer_id = secrets.token_hex(6)
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT INTO answers VALUES (?, ?, ?)",
                (answer_id, _now(), json.dumps(answer.to_json(), ensure_ascii=False)),
            )
        return answer_id

    def get(self, answer_id: str) -> Answer | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT answer FROM answers WHERE answer_id = ?", (answer_id,)
            ).fetchone()
        return Answer.from_json(json.loads(row[0])) if row else None

    def vote(self, answer_id: str, user_id: int, vote: Vote) -> bool:
        """One vote per user per answer; a new vote replaces the old. False: unknown answer."""
        with self._lock, self._connection:
            known = self._connection.execute(
                "SELECT 1 FROM answers WHERE answer_id = ?", (answer_id,)
            ).fetchone()
            if known:
                self._connection.execute(
                    "INSERT INTO votes VALUES (?, ?, ?, ?) ON CONFLICT (answer_id, user_id)"
                    " DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                    (answer_id, user_id, vote, _now()),
                )
        return bool(known)

    def export(self) -> list[dict[str, Any]]:
        """Every vote with its answer, oldest first; voters are not identified."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT v.answer_id, v.vote, v.voted_at, a.answer FROM votes v"
                " JOIN answers a USING (answer_id) ORDER BY v.voted_at, v.answer_id"
            ).fetchall()
        return [
            {"answer_id": answer_id, "vote": vote, "voted_at": voted_at, **json.loads(answer)}
            for answer_id, vote, voted_at, answer in rows
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
