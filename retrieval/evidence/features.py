"""What the offline answer step measures about a question and its candidate sentences.

Only signals that mean the same on any corpus: similarity of vectors, overlap of words
weighted by how rare they are in the corpus, what the title and section add, where a sentence
sits, whether vector and BM25 retrieval agree, and one general cue: a question that asks how
many, when or who wants a number, a date or a name that it does not already contain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from retrieval.models import IndexedSentence, Matrix, SearchHit
from retrieval.text import MONTHS, STOPWORDS, normalize, terms, words

Vector = npt.NDArray[np.float64]

_WANTS_NUMBER = re.compile(
    r"\bhow (?:many|much|long|old|far|big|large|high|often)\b|"
    r"\b(?:what|which)\s+(?:\w+\s+){0,2}?(?:number|percentage|proportion|amount|share|rate|"
    r"price|cost|figure|total|size)s?\b"
)
_WANTS_DATE = re.compile(
    r"^\W*when\b|\bwhen (?:did|was|were|is|will|do|does|has|had)\b|"
    r"\b(?:what|which) (?:year|date|day|month|decade|century)\b|\bsince when\b"
)
_WANTS_NAME = re.compile(r"^\W*(?:who|whom|whose)\b|\b(?:who|whom|whose)\b|\bname[sd]?\b")
_YEAR = re.compile(r"^(?:1[0-9]|20)\d{2}s?$")
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATES = re.compile(
    rf"\b(?:{_MONTH_NAMES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_NAMES})\b|\b(?:1[0-9]|20)\d{{2}}s?\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w'\u2019-]*")

# The candidate features, in the order of the model's weights (see weights.json).
SENTENCE_FEATURES = (
    "similarity",  # cosine of question and sentence, in standard deviations above the
    # question's mean cosine with the corpus's background sentences (any embedder's scale)
    "similarity_gap",  # how far below the best candidate's similarity
    "overlap",  # share of the question's rare-word weight in the sentence
    "context_overlap",  # ... in the sentence with its title and section heading
    "named_overlap",  # share of the question's names and numbers in the sentence and context
    "window_overlap",  # ... in the sentence, its neighbours, title and heading
    "passage_rank",  # 1 / (1 + the passage's rank in the fused search)
    "passage_similarity",  # cosine of question and passage, on the same scale
    "passage_lexical",  # the passage's BM25 score over the best one's
    "both_rankings",  # the passage was found by vectors and by BM25
    "lead",  # 1 / (1 + the sentence's position in its passage)
    "kind_cue",  # wants a number/date/name and the sentence has a new one
    "kind_missing",  # wants one and the sentence has none
    "novelty",  # share of the sentence's words that the question does not have
    "length",  # log of its word count
)


@dataclass(frozen=True, slots=True)
class QuestionProfile:
    text: str
    terms: tuple[str, ...]  # distinct stemmed content terms
    words: frozenset[str]
    weights: tuple[float, ...]  # idf of each term
    named: tuple[str, ...]  # the terms of its names (capitalised words), numbers and months
    wants_number: bool
    wants_date: bool
    wants_name: bool
    unknown_share: float  # share of the terms no sentence of the corpus has

    @property
    def wants_kind(self) -> bool:
        return self.wants_number or self.wants_date or self.wants_name


def profile_question(
    question: str, idf: Mapping[str, float], unseen_idf: float
) -> QuestionProfile:
    lowered = question.lower()
    distinct = tuple(dict.fromkeys(terms(question)))
    weights = tuple(idf.get(term, unseen_idf) for term in distinct)
    unknown = sum(term not in idf for term in distinct) / len(distinct) if distinct else 1.0
    named = [
        term
        for match in _CAPITALISED.finditer(normalize(question)[1:])
        for term in terms(match.group(0))
    ]
    named += [t for t in terms(question) if t[0].isdigit() or t in MONTHS]
    return QuestionProfile(
        question,
        distinct,
        frozenset(words(question)),
        weights,
        tuple(dict.fromkeys(named)),
        bool(_WANTS_NUMBER.search(lowered)),
        bool(_WANTS_DATE.search(lowered)),
        bool(_WANTS_NAME.search(lowered)) and not _WANTS_NUMBER.search(lowered),
        unknown,
    )


def _covered(profile: QuestionProfile, available: frozenset[str]) -> float:
    """Share of the question's term weight found in `available`."""
    total = sum(profile.weights)
    if not total:
        return 0.0
    return (
        sum(w for t, w in zip(profile.terms, profile.weights, strict=True) if t in available)
        / total
    )


def _named_share(profile: QuestionProfile, available: frozenset[str]) -> float:
    """Share of the question's names and numbers found in `available` (1 when it has none)."""
    if not profile.named:
        return 1.0
    return sum(term in available for term in profile.named) / len(profile.named)


def _names(text: str) -> set[str]:
    return {
        word
        for match in _CAPITALISED.finditer(normalize(text)[1:])
        for word in words(match.group(0))
        if word not in STOPWORDS
    }


def has_kind(profile: QuestionProfile, text: str) -> bool:
    """Whether the text holds a number, date or name of the kind the question asks for that
    the question does not already contain."""
    tokens = [t for t in words(text) if t not in profile.words]
    if profile.wants_date and any(t in MONTHS or _YEAR.match(t) for t in tokens):
        return True
    if profile.wants_number and any(
        t[0].isdigit() and t not in profile.words for t in words(_DATES.sub(" ", text))
    ):
        return True  # a count or an amount; "January 4" and "2003" are dates, not counts
    if profile.wants_name:
        question_names = _names(profile.text) | set(profile.words)
        return bool(_names(text) - question_names)
    return False


@dataclass(frozen=True, slots=True)
class Candidates:
    """The sentences of the retrieved passages, with their features (one row each)."""

    sentences: tuple[IndexedSentence, ...]
    features: Vector  # shape (len(sentences), len(SENTENCE_FEATURES))
    hit_of: tuple[int, ...]  # index into the hits of each sentence's passage
    hit_similarity: tuple[float, ...] = ()  # each hit's vector similarity (0: not a vector hit)
    hit_lexical: tuple[float, ...] = ()  # each hit's BM25 score (0: no term matched)
    # The standard deviation of the question's cosines with the corpus's background sentences
    # (the unit of the similarity feature): small when the question is near nothing in
    # particular, as an off-topic question or a stray word is.
    question_spread: float = 0.0


def neighbours(
    sentence: IndexedSentence, by_chunk: Mapping[str, tuple[IndexedSentence, ...]]
) -> tuple[IndexedSentence | None, IndexedSentence | None]:
    group = by_chunk[sentence.passage.chunk_id]
    before = group[sentence.position - 1] if sentence.position > 0 else None
    after = group[sentence.position + 1] if sentence.position + 1 < len(group) else None
    return before, after


def candidate_features(
    profile: QuestionProfile,
    question_vector: Matrix,
    hits: Sequence[SearchHit],
    by_chunk: Mapping[str, tuple[IndexedSentence, ...]],
    background: Matrix,
) -> Candidates:
    sentences: list[IndexedSentence] = []
    hit_of: list[int] = []
    for index, hit in enumerate(hits):
        for sentence in by_chunk[hit.passage.chunk_id]:
            sentences.append(sentence)
            hit_of.append(index)
    if not sentences:
        return Candidates((), np.zeros((0, len(SENTENCE_FEATURES))), ())
    baseline = background @ question_vector if len(background) else np.zeros(1)
    question_spread = float(baseline.std())
    centre, spread = float(baseline.mean()), question_spread or 1.0
    similarity = (np.stack([s.vector for s in sentences]) @ question_vector - centre) / spread
    best_similarity = float(similarity.max())
    best_lexical = max((hit.lexical for hit in hits), default=0.0) or 1.0
    rows = []
    for sentence, sim, index in zip(sentences, similarity, hit_of, strict=True):
        hit = hits[index]
        before, after = neighbours(sentence, by_chunk)
        context = sentence.terms | sentence.context_terms
        window = context.union(*(n.terms for n in (before, after) if n is not None))
        kind = has_kind(profile, sentence.text)
        sentence_words = [w for w in words(sentence.text) if w not in STOPWORDS]
        novelty = (
            sum(w not in profile.words for w in sentence_words) / len(sentence_words)
            if sentence_words
            else 0.0
        )
        rows.append(
            (
                float(sim),
                float(sim) - best_similarity,
                _covered(profile, sentence.terms),
                _covered(profile, context),
                _named_share(profile, context),
                _covered(profile, window),
                1.0 / (1 + index),
                (hit.similarity - centre) / spread if hit.similarity else 0.0,
                hit.lexical / best_lexical,
                float(hit.similarity > 0 and hit.lexical > 0),
                1.0 / (1 + sentence.position),
                float(profile.wants_kind and kind),
                float(profile.wants_kind and not kind),
                novelty,
                math.log1p(len(sentence_words)),
            )
        )
    return Candidates(
        tuple(sentences),
        np.asarray(rows, dtype=np.float64),
        tuple(hit_of),
        tuple(hit.similarity for hit in hits),
        tuple(hit.lexical for hit in hits),
        question_spread,
    )
