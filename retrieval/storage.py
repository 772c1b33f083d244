"""Local storage primitives, one place each: the atomic file write, and SQLite stores under
the data dir (shared by the bot and the CLI)."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path


def write_atomically(path: Path, content: str | bytes) -> None:
    """Replace `path` so that a reader sees the old file or the new one, never a part, and the
    new one survives a crash once this returns. The temporary file is hidden (a leading dot),
    so a sources-dir scan never picks it up, and removed when the write fails."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def connect(path: Path) -> sqlite3.Connection:
    """A connection usable from worker threads (callers serialise with their own lock), in WAL
    mode with a long lock timeout, so a reader never fails while another process writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=60, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


class SqliteStore:
    """A store in one SQLite file: its schema created on open, calls serialised by a lock.
    The methods block; call them from a worker thread in async code."""

    def __init__(self, path: Path, schema: str) -> None:
        self._connection = connect(path)
        self._lock = threading.Lock()
        with self._lock, self._connection:
            self._connection.executescript(schema)

    def close(self) -> None:
        with self._lock:
            self._connection.close()
