"""The offline extractive answer: pick the retrieved sentences that answer the question, or
decline when the documents do not say.

Similarity alone cannot tell "troops in Iraq" (answered) from "troops in Syria" (not stated),
so a sentence is used only when it matches the question's specific constraints (the named
places, people, numbers) itself and holds an answer of the expected kind (a number for "how
many", a date for "when", a name for "who").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from retrieval.documents import Passage
from retrieval.embedders import Matrix
from retrieval.search import SearchHit
from retrieval.text import STOPWORDS, Span, normalize, terms, words


class AnswerKind(Enum):
    NUMBER = "number"
    DATE = "date"
    NAME = "name"  # a person, organisation or place
    ANY = "any"


_KIND_PATTERNS = [
    (AnswerKind.NUMBER, re.compile(
        r"\bhow (?:many|much|big|large|high|low|long|old|far)\b|\bwhat (?:number|percentage|"
        r"share|amount|proportion|size|price|cost|rate|figure|sum|total)\b|\bhow many\b")),
    (AnswerKind.DATE, re.compile(
        r"^\W*when\b|\bwhen (?:did|was|were|is|will|do|does)\b|\b(?:what|which) (?:year|date|"
        r"day|month|time)\b|\bsince when\b")),
    (AnswerKind.NAME, re.compile(
        r"^\W*who\b|\bwho (?:is|was|are|were|did|does|has|had|said|killed|leads?)\b|\bwhom\b|"
        r"\bwhose\b|^\W*where\b|\b(?:what|which) (?:person|man|woman|official|leader|minister|"
        r"company|companies|firm|group|organi[sz]ation|party|country|countries|city|place|"
        r"institute|militia|agency|bank|newspaper|magazine|news agency)\b")),
]
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty
    fifty hundred hundreds thousand thousands million millions billion billions trillion
    dozen dozens half quarter percent per cent bn m""".split()
)
_MONTHS = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday yesterday today tomorrow week month year decade century""".split()
)
_YEAR = re.compile(r"\b(?:1[89]|20)\d{2}s?\b")
_DIGIT = re.compile(r"\d")
_CAPITALISED = re.compile(r"\b[A-Z][\w'\u2019-]*(?:\.[A-Z]\.?)*")
_QUESTION_OPENERS = frozenset(
    "what who whom whose when where which why how is are was were do does did can could will "
    "would should has have had tell name list give according in on at of for to the a an and "
    "but or since after before during".split()
)
# Spellings of one thing that share no letters. Extend when the eval shows a miss.
_ALIASES = [
    {"us", "america", "american", "americans", "united states", "usa"},
    {"uk", "britain", "british", "united kingdom", "gb"},
    {"un", "united nations"},
    {"eu", "european union"},
    {"daesh", "isis", "isil", "islamic state"},
    {"troops", "soldiers", "forces", "military", "army"},
]
_STEMMED_ALIASES = [frozenset(" ".join(terms(alias)) for alias in group) for group in _ALIASES]


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

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "grounded": self.grounded,
            "mode": self.mode,
            "citations": [
                {
                    "n": c.n,
                    "document": c.document,
                    "title": c.title,
                    "section": c.section,
                    "chunk_id": c.chunk_id,
                    "quote": c.quote,
                    "start": c.start,
                    "end": c.end,
                    "score": round(c.score, 4),
                    "date": c.date,
                }
                for c in self.citations
            ],
            "suggestions": list(self.suggestions),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class IndexedSentence:
    passage: Passage
    position: int  # index within its passage
    span: Span  # offsets into the source file
    text: str
    terms: frozenset[str]
    context_terms: frozenset[str]  # the document title's and section heading's terms
    vector: Matrix


@dataclass(frozen=True, slots=True)
class _Question:
    text: str
    kind: AnswerKind
    terms: frozenset[str]
    constraints: tuple[frozenset[str], ...]  # each: the stems of one named thing


@dataclass(slots=True)
class _Candidate:
    sentence: IndexedSentence
    score: float
    satisfied: bool = field(default=False)


def _term_matches(term: str, available: frozenset[str]) -> bool:
    if term in available:
        return True
    if len(term) >= 4 and any(
        len(other) >= 4 and (other.startswith(term) or term.startswith(other)) for other in available
    ):
        return True  # "iraq" / "iraqi", "palestin" / "palestinian"
    return any(term in group and group & available for group in _STEMMED_ALIASES)


def _constraint_matches(constraint: frozenset[str], available: frozenset[str]) -> bool:
    joined = " ".join(sorted(constraint))
    if any(joined in group and group & available for group in _STEMMED_ALIASES):
        return True
    return all(_term_matches(term, available) for term in constraint)


def _has_kind(sentence: str, kind: AnswerKind, question_words: set[str]) -> bool:
    if kind is AnswerKind.ANY:
        return True
    tokens = words(sentence)
    if kind is AnswerKind.NUMBER:
        return bool(_DIGIT.search(sentence)) or any(t in _NUMBER_WORDS for t in tokens)
    if kind is AnswerKind.DATE:
        return bool(_YEAR.search(sentence)) or any(t in _MONTHS for t in tokens)
    names = {m.group(0).lower().rstrip(".") for m in _CAPITALISED.finditer(sentence[1:])}
    return any(name not in question_words and name not in STOPWORDS for name in names)


class ExtractiveAnswerer:
    def __init__(self, proper_nouns: frozenset[str], max_sentences: int = 2) -> None:
        self._proper_nouns = proper_nouns  # stems the corpus writes capitalised
        self._max_sentences = max_sentences

    def analyse(self, question: str) -> _Question:
        lowered = question.lower()
        kind = next((k for k, pattern in _KIND_PATTERNS if pattern.search(lowered)), AnswerKind.ANY)
        constraints: list[frozenset[str]] = []
        for match in re.finditer(r"(?:[A-Z][\w'\u2019-]*\.?(?:\s+|$))+", normalize(question)):
            phrase = [w for w in match.group(0).split() if w.lower().strip(".") not in _QUESTION_OPENERS]
            stems = frozenset(terms(" ".join(phrase)))
            if stems:
                constraints.append(stems)
        covered = set().union(*constraints) if constraints else set()
        for term in terms(question):
            if term not in covered and (term in self._proper_nouns or term.isdigit()):
                constraints.append(frozenset({term}))
        return _Question(question, kind, frozenset(terms(question)), tuple(constraints))

    def select(
        self,
        question: str,
        question_vector: Matrix,
        hits: Sequence[SearchHit],
        sentences: Sequence[IndexedSentence],
    ) -> list[IndexedSentence]:
        """The sentences that answer the question, in reading order; empty to decline."""
        if not sentences:
            return []
        profile = self.analyse(question)
        question_words = set(words(question))
        rank_of = {hit.passage.chunk_id: rank for rank, hit in enumerate(hits)}
        similarities = np.stack([s.vector for s in sentences]) @ question_vector
        spread = float(similarities.max() - similarities.min()) or 1.0
        candidates: list[_Candidate] = []
        for sentence, similarity in zip(sentences, similarities, strict=True):
            window = sentence.terms | sentence.context_terms
            matched = [t for t in profile.terms if _term_matches(t, sentence.terms)]
            coverage = len(matched) / len(profile.terms) if profile.terms else 0.0
            kind_ok = _has_kind(sentence.text, profile.kind, question_words)
            score = (
                (float(similarity) - float(similarities.min())) / spread
                + 0.8 * coverage
                + 0.4 * kind_ok
                + 0.3 / (1 + rank_of.get(sentence.passage.chunk_id, len(hits)))
            )
            satisfied = (
                kind_ok
                and all(_constraint_matches(c, window) for c in profile.constraints)
                and any(_term_matches(t, window) for t in profile.terms)
            )
            candidates.append(_Candidate(sentence, score, satisfied))
        usable = sorted((c for c in candidates if c.satisfied), key=lambda c: -c.score)
        if not usable:
            return []
        best = usable[0].sentence
        chosen = [best]
        follower = next(
            (s for s in sentences if s.passage is best.passage and s.position == best.position + 1),
            None,
        )
        if follower is not None and re.match(r"(?:He|She|They|It|This|That|These|His|Her|Their)\b", follower.text):
            chosen.append(follower)  # a continuation that only makes sense with its lead
        return chosen[: self._max_sentences]
