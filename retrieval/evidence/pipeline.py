"""The offline answer step as a pipeline: candidates -> score -> compose -> answerability.
(The first step, read, is `retrieval.reading`: capitals, misspellings and the question's
language. The last, verify, is `answer.citations`: every quote is checked against its file.)

1. Candidates: every sentence of the retrieved passages, with its features.
2. Score: a logistic model gives each the chance that it holds the answer.
3. Compose: the best sentence, and the sentence nearest the question by its vector alone if
   it scores as evidence too; each with the next one when that scores as part of the answer
   too; and when the question wants a number, date or name that none of them has, the
   likeliest sentence that has one, if it scores as evidence too.
4. Answerability: a second logistic model gives the chance that this evidence answers the
   question, calibrated on labelled questions; thresholds chosen for a stated decline
   precision split the outcomes into answered, closest passage only, and not covered. A
   question in another language than the corpus's has no word evidence: a third model judges
   it by the vectors alone.
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
from retrieval.models import (
    CorpusStatistics,
    IndexedSentence,
    LatentTerms,
    Matrix,
    Reading,
    SearchHit,
)
from retrieval.text import STOPWORDS, terms, words

WEIGHTS_FILE = Path(__file__).with_name("weights.json")

ANSWERABILITY_FEATURES = (
    "best_score",  # the best candidate's logit
    "score_margin",  # ... over the second best
    "passage_margin",  # ... over the best candidate of any other passage
    "best_similarity",  # the highest question-sentence similarity (on the background scale)
    "retrievers_agree",  # the evidence's passage is the first by vectors and the first by BM25
    "evidence_overlap",  # share of the question's word weight in the evidence and its context
    "missing_weight",  # the rarest question word the evidence window lacks (its idf share)
    "missing_known",  # the rarest word of the corpus's that the question has and the evidence
    # window lacks, over the weight of an unseen word: "least" where the evidence says "most"
    "sentence_gap",  # share of the question's word weight the evidence sentences lack
    "named_missing",  # the rarest name or number of the question's the evidence window lacks
    "number_swap",  # the question has a number the evidence lacks, and the evidence another
    "altered_word",  # a question word is an evidence word with two or three letters more or
    # less in front ("indirectly" and "directly"): a copied sentence made into another claim
    "substituted_word",  # a content word of the question stands where the evidence has
    # another: the two words before it or after it are the evidence's, around a different word
    "retrieved_overlap",  # share of the question's word weight anywhere in what was retrieved
    "kind_cue",  # wants a number/date/name and the evidence has one
    "kind_missing",  # wants one and the evidence has none
    "unknown_share",  # share of the question's words no sentence of the corpus has
    "question_negated",  # the question is negated and the evidence is not
    "evidence_negated",  # the evidence is negated and the question is not
    "negated_copy",  # question_negated times evidence_overlap: the nearer the copy, the more
    # an added "not" turns it into a claim the evidence does not make
    "latent_coverage",  # share of the question's latent-term weight the evidence has too:
    # what it asks about, as concepts rather than words ("troops" and "soldiers" alike)
    "latent_cosine",  # cosine of the question's and the evidence's latent terms
)
# Features that only mean something when the question is written in the corpus's language;
# for a question in another language they are set to their average (no evidence either way).
LEXICAL_SENTENCE_FEATURES = frozenset(
    {"overlap", "context_overlap", "window_overlap", "passage_lexical", "both_rankings"}
    | {"named_overlap"}
    | {"kind_cue", "kind_missing", "novelty"}
)
# For a question in another language: what its vector alone says.
FOREIGN_FEATURES = (
    "similarity_lift",  # the best cosine above the question's mean cosine with the background,
    # in the corpus's background_spread: how far the best match stands out, not scaled up when
    # the question is near nothing in particular (as best_similarity is)
    "question_spread",  # the spread of the question's cosines with the background, in the
    # corpus's background_spread: small for a question about nothing the corpus tells apart
)


class Outcome(Enum):
    ANSWERED = "answered"
    CLOSEST = "closest"  # the documents don't say this exactly; here is the closest passage
    NOT_COVERED = "not_covered"


@dataclass(frozen=True, slots=True)
class Evidence:
    # Each passage's in reading order, the best sentence's passage first; empty when nothing
    # was retrieved.
    sentences: tuple[IndexedSentence, ...]
    confidence: float  # the calibrated chance that the evidence answers the question
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class AnswerModels:
    sentence: LogisticModel
    answerability: LogisticModel
    foreign_answerability: LogisticModel  # for a question in another language
    continue_probability: float  # the next sentence joins the evidence at this score
    # A sentence with the number, date or name the question wants and the evidence lacks
    # joins at this score (above 1: never).
    kind_probability: float
    # The sentence nearest the question by vectors alone joins at this score (above 1: never).
    nearest_probability: float
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
            LogisticModel.from_json(data["foreign_answerability"], FOREIGN_FEATURES),
            float(data["continue_probability"]),
            float(data["kind_probability"]),
            float(data["nearest_probability"]),
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
        """The best sentence, and the sentence nearest the question by its vector alone
        when that one scores as evidence too: on questions written without sight of the
        features, the plain cosine is right about as often as the model, and often on
        different questions. Each of the two brings the sentence after it when that one also
        scores as evidence. When the question wants a number, date or name and none of these
        has one, the likeliest candidate that has one joins too, when it scores as evidence:
        a sentence that restates the question often beats the one that answers it. Each
        passage's sentences in reading order, the best one's passage first."""
        chances = 1.0 / (1.0 + np.exp(-scores))
        best = int(np.argmax(scores))
        nearest = int(np.argmax(candidates.features[:, _SIMILARITY]))
        leads = [best]
        if nearest != best and chances[nearest] >= self.nearest_probability:
            leads.append(nearest)
        chosen = list(leads)
        for lead in leads:
            _, after = neighbours(candidates.sentences[lead], by_chunk)
            follower = next((i for i, s in enumerate(candidates.sentences) if s is after), None)
            if (
                follower is not None
                and follower not in chosen
                and chances[follower] >= self.continue_probability
            ):
                chosen.append(follower)
        has_wanted_kind = candidates.features[:, _KIND_CUE] > 0.5
        if has_wanted_kind.any() and not has_wanted_kind[chosen].any():
            having = np.flatnonzero(has_wanted_kind)
            likeliest = int(having[np.argmax(scores[having])])
            if chances[likeliest] >= self.kind_probability:
                chosen.append(likeliest)
        return _in_reading_order([candidates.sentences[i] for i in chosen])

    def confidence(self, row: Vector, foreign: bool = False) -> float:
        """The calibrated chance that the evidence answers the question, from its
        answerability_row, or for a question in another language its foreign_row."""
        model = self.foreign_answerability if foreign else self.answerability
        return float(model.probabilities(row.reshape(1, -1))[0])


# The candidates' column that says: the question wants a number, date or name, and this
# sentence has one it does not already contain.
_KIND_CUE = SENTENCE_FEATURES.index("kind_cue")
_SIMILARITY = SENTENCE_FEATURES.index("similarity")


def _in_reading_order(sentences: Sequence[IndexedSentence]) -> tuple[IndexedSentence, ...]:
    """Grouped by passage, in the order the passages first appear; each in reading order."""
    passages = list(dict.fromkeys(s.passage.chunk_id for s in sentences))
    return tuple(sorted(sentences, key=lambda s: (passages.index(s.passage.chunk_id), s.position)))


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
        question: Reading,
        question_vector: Matrix,
        question_terms: LatentTerms,
        hits: Sequence[SearchHit],
        by_chunk: Mapping[str, tuple[IndexedSentence, ...]],
    ) -> Evidence:
        profile = self.profile(question.text)
        candidates = candidate_features(
            profile, question_vector, hits, by_chunk, self._corpus.background
        )
        if not candidates.sentences:
            return Evidence((), 0.0, Outcome.NOT_COVERED)
        models = self._models
        foreign = not question.in_corpus_language
        scores = models.score(candidates, foreign)
        evidence = models.compose(candidates, scores, by_chunk)
        row = (
            foreign_row(candidates, self._corpus)
            if foreign
            else answerability_row(
                profile, question_terms, candidates, scores, evidence, self._corpus
            )
        )
        confidence = models.confidence(row, foreign)
        return Evidence(evidence, confidence, models.outcome(confidence, foreign))


_NEGATIONS = frozenset("not no never nor none nobody nothing neither without cannot".split())


def _negated(text: str) -> bool:
    lowered = text.lower()
    return "n't" in lowered or "n\u2019t" in lowered or bool(_NEGATIONS & set(words(text)))


def has_altered_word(question: str, evidence: str) -> bool:
    """Whether a word of the question that the evidence lacks is one of the evidence's words
    with two or three letters added or cut at its front ("indirectly" for "directly", "later"
    for "earlier")."""
    evidence_words = {w for w in words(evidence) if len(w) >= 4 and not w[0].isdigit()}
    for word in set(words(question)) - evidence_words:
        if len(word) < 4 or word[0].isdigit() or word in STOPWORDS:
            continue
        for other in evidence_words:
            longer, shorter = (word, other) if len(word) > len(other) else (other, word)
            if longer.endswith(shorter) and 2 <= len(longer) - len(shorter) <= 3:
                return True
    return False


def has_substituted_word(question: str, evidence: str) -> bool:
    """Whether a content word of the question is aligned with a different content word of the
    evidence: both are framed by the same two words on one side ("three finite graphs" where
    the evidence says "two finite graphs", "harder to analyze" for "easier to analyze")."""
    asked, said = words(question), words(evidence)
    asked_terms, said_terms = frozenset(terms(question)), frozenset(terms(evidence))

    def content(word: str, other_side: frozenset[str]) -> bool:
        """A word that is not a stop word and whose stem the other side does not have."""
        stems = terms(word)
        return bool(stems) and stems[0] not in other_side

    # The two words before and the two after each content word of the evidence's own.
    frames: set[tuple[str, ...]] = set()
    for j, word in enumerate(said):
        if not content(word, asked_terms):
            continue
        if j >= 2:
            frames.add(("before", said[j - 2], said[j - 1]))
        if j + 2 < len(said):
            frames.add(("after", said[j + 1], said[j + 2]))
    for i, word in enumerate(asked):
        if not content(word, said_terms):
            continue
        before = ("before", *asked[i - 2 : i]) if i >= 2 else None
        after = ("after", *asked[i + 1 : i + 3]) if i + 2 < len(asked) else None
        if before in frames or after in frames:
            return True
    return False


def _number_swap(question: str, evidence: str) -> bool:
    question_numbers = {w for w in words(question) if w[0].isdigit()}
    evidence_numbers = {w for w in words(evidence) if w[0].isdigit()}
    return bool(question_numbers - evidence_numbers) and bool(evidence_numbers - question_numbers)


def foreign_row(candidates: Candidates, corpus: CorpusStatistics) -> Vector:
    """The vector features of FOREIGN_FEATURES, in their order."""
    best = float(candidates.features[:, _SIMILARITY].max())
    spread = candidates.question_spread / corpus.background_spread
    # The similarity feature is in the question's own spread: times it, in the corpus's.
    values = {"similarity_lift": best * spread, "question_spread": spread}
    return np.asarray([values[name] for name in FOREIGN_FEATURES], dtype=np.float64)


def answerability_row(
    profile: QuestionProfile,
    question_terms: LatentTerms,
    candidates: Candidates,
    scores: Vector,
    evidence: Sequence[IndexedSentence],
    corpus: CorpusStatistics,
) -> Vector:
    """The answerability features of the composed evidence, in ANSWERABILITY_FEATURES order."""
    ordered = np.sort(scores)[::-1]
    margin = float(ordered[0] - ordered[1]) if len(ordered) > 1 else float(ordered[0])
    best = int(np.argmax(scores))
    chunk = candidates.sentences[best].passage.chunk_id
    in_passage = np.asarray([s.passage.chunk_id == chunk for s in candidates.sentences])
    others = scores[~in_passage]
    hit = candidates.hit_of[best]
    window = frozenset().union(*(s.terms | s.context_terms for s in evidence))
    spoken = frozenset().union(*(s.terms for s in evidence))
    retrieved = frozenset().union(*(s.terms | s.context_terms for s in candidates.sentences))
    weighted = list(zip(profile.terms, profile.weights, strict=True))
    total = sum(profile.weights) or 1.0

    def rarest_missing(terms: Sequence[str], available: frozenset[str]) -> float:
        """The idf of the rarest of `terms` not in `available`, over an unseen word's."""
        absent = [corpus.idf.get(t, corpus.unseen_idf) for t in terms if t not in available]
        return max(absent, default=0.0) / corpus.unseen_idf

    text = " ".join(s.text for s in evidence)
    kind = has_kind(profile, text)
    overlap = sum(w for t, w in weighted if t in window) / total
    question_negated = _negated(profile.text) and not _negated(text)
    missing = [w for t, w in weighted if t not in window]
    evidence_terms = LatentTerms.pooled([s.latent for s in evidence])
    values = {
        "best_score": float(ordered[0]),
        "score_margin": margin,
        "passage_margin": float(ordered[0] - others.max()) if len(others) else margin,
        "best_similarity": float(candidates.features[:, _SIMILARITY].max()),
        "retrievers_agree": float(
            candidates.hit_similarity[hit] == max(candidates.hit_similarity)
            and candidates.hit_lexical[hit] == max(candidates.hit_lexical)
        ),
        "evidence_overlap": overlap,
        "missing_weight": max(missing, default=0.0) / max(max(profile.weights, default=1.0), 1e-9),
        "missing_known": rarest_missing([t for t in profile.terms if t in corpus.idf], window),
        "sentence_gap": sum(w for t, w in weighted if t not in spoken) / total,
        "named_missing": rarest_missing(profile.named, window),
        "number_swap": float(_number_swap(profile.text, text)),
        "altered_word": float(has_altered_word(profile.text, text)),
        "substituted_word": float(has_substituted_word(profile.text, text)),
        "retrieved_overlap": sum(w for t, w in weighted if t in retrieved) / total,
        "kind_cue": float(profile.wants_kind and kind),
        "kind_missing": float(profile.wants_kind and not kind),
        "unknown_share": profile.unknown_share,
        "question_negated": float(question_negated),
        "evidence_negated": float(_negated(text) and not _negated(profile.text)),
        "negated_copy": float(question_negated) * overlap,
        "latent_coverage": question_terms.covered_by(evidence_terms),
        "latent_cosine": question_terms.cosine(evidence_terms),
    }
    return np.asarray([values[name] for name in ANSWERABILITY_FEATURES], dtype=np.float64)
