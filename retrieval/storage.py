"""Local storage primitives, one place each: the atomic file write, and SQLite stores under
the data dir (shared by the bot and the CLI)."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


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


def set_aside(path: Path, why: str) -> Path:
    """Rename a damaged file or folder out of the way (never delete it: someone may want to
    look), and say so; returns where it went."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}-{time.time_ns() % 10**6:06d}")
    path.rename(target)
    log.warning("%s is damaged (%s); set aside as %s, starting afresh", path, why, target.name)
    return target


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
        self._lock = threading.Lock()
        try:
            self._connection = self._open(path, schema)
        except sqlite3.DatabaseError as error:  # not a database, or a damaged one
            for damaged in (path, path.with_name(path.name + "-wal")):
                if damaged.exists():
                    set_aside(damaged, str(error))
            path.with_name(path.name + "-shm").unlink(missing_ok=True)  # a rebuildable index
            self._connection = self._open(path, schema)

    @staticmethod
    def _open(path: Path, schema: str) -> sqlite3.Connection:
        connection = connect(path)
        try:
            with connection:
                connection.executescript(schema)
                connection.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return connection

    def close(self) -> None:
        with self._lock:
            self._connection.close()
