"""The offline answer step as a pipeline: candidates -> score -> compose -> answerability.
(The last step, verify, is `answer.citations`: every quote is checked against its file.)

1. Candidates: every sentence of the retrieved passages, with its features.
2. Score: a logistic model gives each the chance that it holds the answer.
3. Compose: the best sentence, and the next one when it scores as part of the answer too.
4. Answerability: a second logistic model gives the chance that this evidence answers the
   question, calibrated on labelled questions; thresholds chosen for a stated decline
   precision split the outcomes into answered, closest passage only, and not covered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.evidence.features import (
    SENTENCE_FEATURES,
    Candidates,
    QuestionProfile,
    Vector,
    candidate_features,
    has_kind,
    neighbours,
    profile_question,
)
from retrieval.evidence.model import LogisticModel, load_models
from retrieval.models import CorpusStatistics, IndexedSentence, Matrix, SearchHit
from retrieval.text import words

WEIGHTS_FILE = Path(__file__).with_name("weights.json")

ANSWERABILITY_FEATURES = (
    "best_score",  # the best candidate's logit
    "score_margin",  # ... over the second best
    "best_similarity",  # the highest question-sentence similarity (on the background scale)
    "evidence_overlap",  # share of the question's word weight in the evidence and its context
    "missing_weight",  # the rarest question word the evidence window lacks (its idf share)
    "missing_known",  # the rarest word of the corpus's that the question has and the evidence
    # window lacks, over the weight of an unseen word: "least" where the evidence says "most"
    "sentence_gap",  # share of the question's word weight the evidence sentences lack
    "named_missing",  # the rarest name or number of the question's the evidence window lacks
    "retrieved_overlap",  # share of the question's word weight anywhere in what was retrieved
    "kind_cue",  # wants a number/date/name and the evidence has one
    "kind_missing",  # wants one and the evidence has none
    "unknown_share",  # share of the question's words no sentence of the corpus has
    "negation_mismatch",  # one of question and evidence is negated, the other not
)
# Features that only mean something when the question is written in the corpus's language;
# for a question in another language they are set to their average (no evidence either way).
LEXICAL_SENTENCE_FEATURES = frozenset(
    {"overlap", "context_overlap", "window_overlap", "passage_lexical", "both_rankings"}
    | {"named_overlap"}
    | {"kind_cue", "kind_missing", "novelty"}
)
LEXICAL_ANSWERABILITY_FEATURES = frozenset(
    {"evidence_overlap", "missing_weight", "retrieved_overlap", "kind_cue", "kind_missing"}
    | {"unknown_share", "missing_known", "sentence_gap", "negation_mismatch", "named_missing"}
)


class Outcome(Enum):
    ANSWERED = "answered"
    CLOSEST = "closest"  # the documents don't say this exactly; here is the closest passage
    NOT_COVERED = "not_covered"


@dataclass(frozen=True, slots=True)
class Evidence:
    sentences: tuple[IndexedSentence, ...]  # in reading order; empty when nothing retrieved
    confidence: float  # the calibrated chance that the evidence answers the question
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class AnswerModels:
    sentence: LogisticModel
    answerability: LogisticModel
    continue_probability: float  # the next sentence joins the evidence at this score
    answer_threshold: float  # answered at this confidence or more
    closest_threshold: float  # below it: not covered at all
    # For a question in another language than the corpus's, whose word evidence is missing.
    foreign_answer_threshold: float

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> AnswerModels:
        data = load_models(path)
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AnswerModels:
        return cls(
            LogisticModel.from_json(data["sentence"], SENTENCE_FEATURES),
            LogisticModel.from_json(data["answerability"], ANSWERABILITY_FEATURES),
            float(data["continue_probability"]),
            float(data["answer_threshold"]),
            float(data["closest_threshold"]),
            float(data["foreign_answer_threshold"]),
        )

    def outcome(self, confidence: float, foreign: bool) -> Outcome:
        threshold = self.foreign_answer_threshold if foreign else self.answer_threshold
        if confidence >= threshold:
            return Outcome.ANSWERED
        if confidence >= min(self.closest_threshold, threshold):
            return Outcome.CLOSEST
        return Outcome.NOT_COVERED

    def score(self, candidates: Candidates, foreign: bool = False) -> Vector:
        """Each candidate's logit of holding the answer."""
        rows = candidates.features
        if foreign:
            rows = _neutralise(self.sentence, rows, LEXICAL_SENTENCE_FEATURES)
        return self.sentence.logits(rows)

    def compose(
        self,
        candidates: Candidates,
        scores: Vector,
        by_chunk: Mapping[str, tuple[IndexedSentence, ...]],
    ) -> tuple[IndexedSentence, ...]:
        """The best sentence, and the one after it when that one also scores as evidence."""
        best = candidates.sentences[int(np.argmax(scores))]
        _, after = neighbours(best, by_chunk)
        follower = next((i for i, s in enumerate(candidates.sentences) if s is after), None)
        if after is None or follower is None:
            return (best,)
        chance = 1.0 / (1.0 + np.exp(-scores[follower]))
        return (best, after) if chance >= self.continue_probability else (best,)

    def confidence(self, row: Vector, foreign: bool = False) -> float:
        """The calibrated chance that the evidence answers the question."""
        rows = row.reshape(1, -1)
        if foreign:
            rows = _neutralise(self.answerability, rows, LEXICAL_ANSWERABILITY_FEATURES)
        return float(self.answerability.probabilities(rows)[0])


def in_corpus_language(question: QuestionProfile, corpus: CorpusStatistics) -> bool:
    """Whether the question shares function words with the corpus ("the", "of", "is" for
    English): if not, it is written in another language and only its vector can be matched."""
    return bool(question.words & corpus.common_words)


def _neutralise(model: LogisticModel, rows: Vector, lexical: frozenset[str]) -> Vector:
    rows = rows.copy()
    for column, name in enumerate(model.features):
        if name in lexical:
            rows[:, column] = model.means[column]
    return rows


class EvidenceAnswerer:
    """Finds the evidence for a question in the retrieved passages and says how sure it is."""

    def __init__(self, models: AnswerModels, corpus: CorpusStatistics) -> None:
        self._models = models
        self._corpus = corpus

    def profile(self, question: str) -> QuestionProfile:
        return profile_question(question, self._corpus.idf, self._corpus.unseen_idf)

    def answer(
        self,
        question: str,
        question_vector: Matrix,
        hits: Sequence[SearchHit],
        by_chunk: Mapping[str, tuple[IndexedSentence, ...]],
    ) -> Evidence:
        profile = self.profile(question)
        candidates = candidate_features(
            profile, question_vector, hits, by_chunk, self._corpus.background
        )
        if not candidates.sentences:
            return Evidence((), 0.0, Outcome.NOT_COVERED)
        models = self._models
        foreign = not in_corpus_language(profile, self._corpus)
        scores = models.score(candidates, foreign)
        evidence = models.compose(candidates, scores, by_chunk)
        row = answerability_row(profile, candidates, scores, evidence, self._corpus)
        confidence = models.confidence(row, foreign)
        return Evidence(evidence, confidence, models.outcome(confidence, foreign))


_NEGATIONS = frozenset("not no never nor none nobody nothing neither without cannot".split())


def _negated(text: str) -> bool:
    lowered = text.lower()
    return "n't" in lowered or "n\u2019t" in lowered or bool(_NEGATIONS & set(words(text)))


def answerability_row(
    profile: QuestionProfile,
    candidates: Candidates,
    scores: Vector,
    evidence: Sequence[IndexedSentence],
    corpus: CorpusStatistics,
) -> Vector:
    ordered = np.sort(scores)[::-1]
    margin = float(ordered[0] - ordered[1]) if len(ordered) > 1 else float(ordered[0])
    window = frozenset().union(*(s.terms | s.context_terms for s in evidence))
    spoken = frozenset().union(*(s.terms for s in evidence))
    retrieved = frozenset().union(*(s.terms | s.context_terms for s in candidates.sentences))
    weighted = list(zip(profile.terms, profile.weights, strict=True))
    total = sum(profile.weights) or 1.0
    missing = [w for t, w in weighted if t not in window]
    missing_known = [w for t, w in weighted if t not in window and t in corpus.idf]
    named_missing = [
        corpus.idf.get(t, corpus.unseen_idf) for t in profile.named if t not in window
    ]
    text = " ".join(s.text for s in evidence)
    kind = has_kind(profile, text)
    similarity_column = SENTENCE_FEATURES.index("similarity")
    return np.asarray(
        [
            float(ordered[0]),
            margin,
            float(candidates.features[:, similarity_column].max()),
            sum(w for t, w in weighted if t in window) / total,
            max(missing, default=0.0) / max(max(profile.weights, default=1.0), 1e-9),
            max(missing_known, default=0.0) / corpus.unseen_idf,
            sum(w for t, w in weighted if t not in spoken) / total,
            max(named_missing, default=0.0) / corpus.unseen_idf,
            sum(w for t, w in weighted if t in retrieved) / total,
            float(profile.wants_kind and kind),
            float(profile.wants_kind and not kind),
            profile.unknown_share,
            float(_negated(profile.text) != _negated(text)),
        ],
        dtype=np.float64,
    )
