"""The admin audit log: who did what, when, and how it ended; one JSON object per line."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class AuditLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

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
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock, self._path.open("a", encoding="utf-8") as handle:
            handle.write(line)

    def entries(self) -> list[dict[str, Any]]:
        if not self._path.exists():
            return []
        with self._lock:
            lines = self._path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
