"""Hybrid retrieval: Chroma cosine similarity fused with BM25 by weighted reciprocal rank.

Vectors find paraphrases ("soldiers" for "troops"); BM25 finds exact names and numbers, which
matter in news. Rank fusion needs no score calibration between the two.
"""

from __future__ import annotations

import logging

import bm25s
import httpx
import numpy as np

from retrieval.errors import IndexServerUnreachableError
from retrieval.index.store import IndexStore
from retrieval.models import Manifest, Matrix, SearchHit
from retrieval.text import terms

RRF_K = 60

# bm25s sets its own logger to DEBUG on import, which floods any root handler.
logging.getLogger("bm25s").setLevel(logging.WARNING)


def top_positive(scores: np.ndarray, count: int) -> np.ndarray:
    """The indices of the `count` highest positive scores, best first, ties in index order:
    what a stable argsort of every score would give, cut at the first score <= 0, but
    sorting only the positive ones (a few of 100k passages match a question's terms; a full
    argsort of 100k scores took several ms per question)."""
    positive = np.flatnonzero(scores > 0)
    order = np.argsort(-scores[positive], kind="stable")[:count]
    return positive[order]


class HybridSearcher:
    """Searches one index version. Build a new one for a new version; never mutated."""

    def __init__(
        self,
        store: IndexStore,
        manifest: Manifest,
        vector_weight: float,
        lexical_weight: float,
    ) -> None:
        self.manifest = manifest
        self.passages = store.passages(manifest)
        self._by_id = {passage.chunk_id: index for index, passage in enumerate(self.passages)}
        self._collection = store.collection(manifest)
        self._vector_weight = vector_weight
        self._lexical_weight = lexical_weight
        self._bm25 = bm25s.BM25()
        corpus = [terms(f"{p.title} {p.section} {p.text}") or ["\x00"] for p in self.passages]
        self._bm25.index(corpus, show_progress=False)

    def lexical_scores(self, question_terms: list[str]) -> np.ndarray:
        if not question_terms:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(question_terms), dtype=np.float32)

    def search(self, question: str, question_vector: Matrix, k: int) -> list[SearchHit]:
        pool = min(len(self.passages), max(4 * k, 20))
        try:
            result = self._collection.query(
                query_embeddings=question_vector.reshape(1, -1),
                n_results=pool,
                include=["distances"],
            )
        except httpx.TransportError as error:  # a Chroma server that went away mid-run
            raise IndexServerUnreachableError(
                f"the Chroma server cannot be used ({error}); start it, or check BRIEFBOT_CHROMA_*"
            ) from None
        similarity = np.zeros(len(self.passages), dtype=np.float32)
        fused = np.zeros(len(self.passages), dtype=np.float64)
        distances = (result["distances"] or [[]])[0]
        for rank, (chunk_id, distance) in enumerate(zip(result["ids"][0], distances, strict=True)):
            index = self._by_id[chunk_id]
            similarity[index] = 1.0 - float(distance)
            fused[index] += self._vector_weight / (RRF_K + rank + 1)
        lexical = self.lexical_scores(terms(question))
        for rank, index in enumerate(top_positive(lexical, pool)):
            fused[index] += self._lexical_weight / (RRF_K + rank + 1)
        best = [int(i) for i in top_positive(fused, k)]
        return [
            SearchHit(self.passages[i], float(fused[i]), float(similarity[i]), float(lexical[i]))
            for i in best
        ]
