"""The admin audit log: who did what, when, and how it ended; one JSON object per entry, in
the state database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from retrieval.state.database import Database, audit


class AuditLog:
    def __init__(self, database: Database) -> None:
        self._database = database

    def record(
        self, user_id: int, user_name: str, action: str, result: str, **detail: Any
    ) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "user_id": user_id,
            "user": user_name,
            "action": action,
            "result": result,
            **detail,
        }
        with self._database.transaction() as connection:
            connection.execute(insert(audit).values(entry=json.dumps(entry, ensure_ascii=False)))

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first."""
        with self._database.transaction() as connection:
            stored = connection.execute(select(audit.c.entry).order_by(audit.c.id)).scalars()
            return [json.loads(entry) for entry in stored]
