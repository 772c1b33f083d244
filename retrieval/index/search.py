"""Hybrid retrieval: Chroma cosine similarity fused with BM25 by weighted reciprocal rank,
and the passages both found re-ranked by their best sentence.

Vectors find paraphrases ("soldiers" for "troops"); BM25 finds exact names and numbers, which
matter in news. A passage's vector is an average over its sentences, so a passage with one
sentence that answers and several that do not ranks below its answer: the third ranking, by
each candidate passage's best-matching sentence, brings it back. Rank fusion needs no score
calibration between the three.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import bm25s
import httpx
import numpy as np

from retrieval.errors import IndexServerUnreachableError
from retrieval.index.store import IndexStore
from retrieval.models import IndexedSentence, Manifest, Matrix, Passage, SearchHit
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
        passages: Sequence[Passage],
        sentences: Mapping[str, Sequence[IndexedSentence]],
        *,
        vector_weight: float,
        lexical_weight: float,
        sentence_weight: float,
    ) -> None:
        """`passages` are the manifest's (`store.passages`), `sentences` theirs by chunk id
        with their vectors (`index_sentences`)."""
        self.manifest = manifest
        self.passages = passages
        self._by_id = {passage.chunk_id: index for index, passage in enumerate(self.passages)}
        self._sentences = sentences
        self._collection = store.collection(manifest)
        self._vector_weight = vector_weight
        self._lexical_weight = lexical_weight
        self._sentence_weight = sentence_weight
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
        by_vector = [self._by_id[chunk_id] for chunk_id in result["ids"][0]]
        for rank, (index, distance) in enumerate(zip(by_vector, distances, strict=True)):
            similarity[index] = 1.0 - float(distance)
            fused[index] += self._vector_weight / (RRF_K + rank + 1)
        lexical = self.lexical_scores(terms(question))
        by_lexical = top_positive(lexical, pool)
        for rank, index in enumerate(by_lexical):
            fused[index] += self._lexical_weight / (RRF_K + rank + 1)
        if self._sentence_weight:
            found = np.union1d(np.asarray(by_vector, dtype=np.int64), by_lexical)
            for rank, index in enumerate(self._by_best_sentence(found, question_vector)[:pool]):
                fused[index] += self._sentence_weight / (RRF_K + rank + 1)
        best = [int(i) for i in top_positive(fused, k)]
        return [
            SearchHit(self.passages[i], float(fused[i]), float(similarity[i]), float(lexical[i]))
            for i in best
        ]

    def _by_best_sentence(self, candidates: np.ndarray, question_vector: Matrix) -> np.ndarray:
        """The candidate passages (indices in ascending order) that have sentences, by the
        cosine of their best-matching sentence, best first, ties in index order. Only the few
        candidates are scored, so the cost does not grow with the index."""
        groups = {int(i): self._sentences[self.passages[i].chunk_id] for i in candidates}
        groups = {index: group for index, group in groups.items() if group}
        if not groups:
            return np.zeros(0, dtype=np.int64)
        vectors = np.stack([s.vector for group in groups.values() for s in group])
        cosines = vectors @ np.asarray(question_vector, dtype=np.float32).reshape(-1)
        starts = np.cumsum([0] + [len(group) for group in groups.values()][:-1])
        best = np.maximum.reduceat(cosines, starts)
        return np.fromiter(groups, dtype=np.int64)[np.argsort(-best, kind="stable")]
