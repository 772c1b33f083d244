"""Answers shown to users and the votes on them, in the state database.

Buttons under an answer refer to it by a short id (Telegram allows 64 bytes of callback
data), and the votes are kept with the question, answer and citations so bad answers can be
studied (`briefbot feedback --json`).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import insert, select

from retrieval.models import Answer
from retrieval.state.database import Database, answers, votes

Vote = Literal["up", "down"]


class AnswerLog:
    """The methods block; call them from a worker thread in async code."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, answer: Answer) -> str:
        """Keep an answer; returns its id for buttons."""
        answer_id = secrets.token_hex(6)
        with self._database.transaction() as connection:
            connection.execute(
                insert(answers).values(
                    answer_id=answer_id,
                    created_at=_now(),
                    answer=json.dumps(answer.to_json(), ensure_ascii=False),
                )
            )
        return answer_id

    def get(self, answer_id: str) -> Answer | None:
        with self._database.transaction() as connection:
            stored = connection.execute(
                select(answers.c.answer).where(answers.c.answer_id == answer_id)
            ).scalar()
        return Answer.from_json(json.loads(stored)) if stored is not None else None

    def vote(self, answer_id: str, user_id: int, vote: Vote) -> bool:
        """One vote per user per answer; a new vote replaces the old. False: unknown answer."""
        with self._database.transaction() as connection:
            known = connection.execute(
                select(answers.c.answer_id).where(answers.c.answer_id == answer_id)
            ).first()
            if known:
                self._database.upsert(
                    connection,
                    votes,
                    {"answer_id": answer_id, "user_id": user_id, "vote": vote, "voted_at": _now()},
                    keys=("answer_id", "user_id"),
                )
        return known is not None

    def export(self) -> list[dict[str, Any]]:
        """Every vote with its answer, oldest first; voters are not identified."""
        query = (
            select(votes.c.answer_id, votes.c.vote, votes.c.voted_at, answers.c.answer)
            .join(answers, answers.c.answer_id == votes.c.answer_id)
            .order_by(votes.c.voted_at, votes.c.answer_id)
        )
        with self._database.transaction() as connection:
            rows = connection.execute(query).all()
        return [
            {"answer_id": answer_id, "vote": vote, "voted_at": voted_at, **json.loads(answer)}
            for answer_id, vote, voted_at, answer in rows
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
