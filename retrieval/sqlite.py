"""SQLite for the small stores under the data dir, shared by the bot and the CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(path: Path) -> sqlite3.Connection:
    """A connection usable from worker threads (callers serialise with their own lock), in WAL
    mode with a long lock timeout, so a reader never fails while another process writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=60, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection
