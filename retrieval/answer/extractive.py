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
from dataclasses import dataclass
from enum import Enum

import numpy as np

from retrieval.models import IndexedSentence, Matrix, SearchHit
from retrieval.text import MONTHS, STOPWORDS, normalize, terms, words


class AnswerKind(Enum):
    NUMBER = "number"
    DATE = "date"
    NAME = "name"  # a person, organisation or place
    ANY = "any"


_KIND_PATTERNS = [
    (
        AnswerKind.NUMBER,
        re.compile(
            r"\bhow (?:many|much|big|large|high|low|long|old|far|quickly|often)\b|"
            # The noun must follow the wh-word closely: "what was the total number of...", not
            # "what is the title of the book ... drawn up at Number 10".
            r"^\W*(?:what|which)\s+(?:[\w'\u2019-]+\s+){0,5}?"
            r"(?:number|percentage|share|amount|proportion|price|cost|"
            r"rate|figure|sum|total|level|margin|majority|value|fine|fee|salary|budget|deficit)s?\b"
        ),
    ),
    (
        AnswerKind.DATE,
        re.compile(
            r"^\W*when\b|\bwhen (?:did|was|were|is|will|do|does)\b|\b(?:what|which) (?:year|date|"
            r"day|month|time)\b|\bsince when\b"
        ),
    ),
    (
        AnswerKind.NAME,
        re.compile(
            r"^\W*who\b|\bwho (?:is|was|are|were|did|does|has|had|said|killed|leads?)\b|\bwhom\b|"
            r"\bwhose\b|^\W*where\b|\b(?:what|which) (?:is|was|are|were) (?:the |their |its )?"
            r"(?:other )?names?\b|\b(?:by|under) what (?:other )?names?\b|"
            r"\b(?:what|which) (?:person|man|woman|official|leader|minister|"
            r"company|companies|firm|group|organi[sz]ation|party|country|countries|city|place|"
            r"institute|militia|agency|bank|newspaper|magazine|news agency)\b"
        ),
    ),
]
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty
    fifty hundred hundreds thousand thousands million millions billion billions trillion
    dozen dozens half quarter percent per cent bn m""".split()
)
_DEGREE_WORDS = frozenset(
    """limited little full complete partial total considerable significant substantial great
    greater huge vast enormous modest minimal marginal slight strong weak tight loose""".split()
)
_DATE_WORDS = frozenset(MONTHS) | frozenset(
    """monday tuesday wednesday thursday friday saturday sunday yesterday today tomorrow week
    month year decade century""".split()
)
_MONTH_PREFIX = "|".join(dict.fromkeys(name[:3] for name in MONTHS))
_ASKS_MONEY = re.compile(
    r"\b(?:spen[dt]s?|spending|costs?|pa(?:y|id|ys)|worth|price|budget|funds?|funding|invest\w*|"
    r"compensation|fines?|salary|wages?|money|afford|revenue|profits?|earn\w*|raised?)\b"
)
_MONEY = re.compile(
    r"[$\u00a3\u20ac\u00a5]|\b(?:dollars?|pounds?|euros?|yen|yuan|roubles?|rubles?|francs?|"
    r"rupees?|pence|cents?|bn|billion|trillion|m|\d+(?:\.\d+)?(?:bn|m|p))\b",
    re.IGNORECASE,
)
_DATE_EXPRESSION = re.compile(
    rf"\b(?:{_MONTH_PREFIX})[a-z]*\.?\s+\d{{1,2}}\b|"
    rf"\b\d{{1,2}}\s+(?:{_MONTH_PREFIX})[a-z]*\b|"
    r"\b(?:1[89]|20)\d{2}s?\b",
    re.IGNORECASE,
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
_CONTINUATION = re.compile(r"(?:He|She|They|It|His|Her|Their|Its)\b")
# Share of the question's non-name words a sentence must contain (or an alias of them).
_MIN_FOCUS_COVERAGE = 0.25
_ENOUGH_FOCUS_TERMS = 2  # however long the question
# Words that shape a question rather than say what it is about ("in what year", "take place").
_QUESTION_SHAPE = frozenset(
    terms(
        "name names year date time day size number amount kind type way take place happen "
        "happened occur called known other document documents article articles text sources"
    )
)
_STEMMED_ALIASES = [frozenset(" ".join(terms(alias)) for alias in group) for group in _ALIASES]


@dataclass(frozen=True, slots=True)
class _Question:
    text: str
    kind: AnswerKind
    terms: frozenset[str]
    constraints: tuple[frozenset[str], ...]  # each: the stems of one named thing
    words: frozenset[str]
    names: frozenset[str]
    asks_money: bool
    asks_degree: bool  # "how much control": "limited control" answers it as well as a number


def term_matches(term: str, available: frozenset[str]) -> bool:
    if term in available:
        return True
    if len(term) >= 4 and any(
        len(other) >= 4 and (other.startswith(term) or term.startswith(other))
        for other in available
    ):
        return True  # "iraq" / "iraqi", "palestin" / "palestinian"
    return any(term in group and group & available for group in _STEMMED_ALIASES)


def _constraint_matches(constraint: frozenset[str], available: frozenset[str]) -> bool:
    joined = " ".join(sorted(constraint))
    if any(joined in group and group & available for group in _STEMMED_ALIASES):
        return True
    return all(term_matches(term, available) for term in constraint)


def _partly_matches(constraint: frozenset[str], available: frozenset[str]) -> bool:
    return any(len(term) >= 4 and term_matches(term, available) for term in constraint)


def _constraints_hold(
    constraints: Sequence[frozenset[str]],
    window: frozenset[str],
    document: frozenset[str],
    new_names: bool,
    strict: bool,
) -> bool:
    """Every named thing of the question must be in the sentence, its heading or its title;
    or, when the sentence names nothing new, at least in its document: "The men are held at
    the police station" answers a question about "the four Guantanamo Britons" in an article
    about them. A sentence that brings in other names ("2,500 troops in Iraq") does not answer
    for a thing it leaves out ("troops in Syria")."""
    missing = [
        c
        for c in constraints
        if not _constraint_matches(c, window)
        # "Mr Howard said..." in an article that names "Michael Howard" in full
        and not (len(c) > 1 and _partly_matches(c, window) and _constraint_matches(c, document))
    ]
    if not missing:
        return True
    if len(missing) == len(constraints) or (new_names and strict):
        return False
    return all(_constraint_matches(c, document) for c in missing)


def _names(text: str) -> set[str]:
    """Capitalised words after the first, normalised ("U.S." and "US" are one name)."""
    return {
        word
        for match in _CAPITALISED.finditer(normalize(text)[1:])
        for word in words(match.group(0))
        if word not in STOPWORDS
    }


def _switches_subject(lead: str, follower: str, question_names: set[str]) -> bool:
    """True when the follower names something the lead mentions but the question does not:
    "...Iraq and Syria..." then "...troops in Iraq..." answers for Iraq, not Syria."""
    lead_names = frozenset(_names(lead) - question_names)
    return any(term_matches(name, lead_names) for name in _names(follower) - question_names)


def _has_kind(sentence: str, kind: AnswerKind, question: _Question) -> bool:
    """Whether the sentence holds an answer of the kind asked for that the question does not
    already contain (the "11th month" of the question is not the answer to "what total")."""
    if kind is AnswerKind.ANY:
        return True
    if kind is AnswerKind.NUMBER:
        if question.asks_money and not _MONEY.search(sentence):
            return False  # "how much does it cost" is not answered by "2,500 troops"
        if question.asks_degree and _DEGREE_WORDS & set(words(sentence)) - question.words:
            return True
        undated = _DATE_EXPRESSION.sub(" ", sentence)  # "January 4" is no count
        return any(
            (token[0].isdigit() or token in _NUMBER_WORDS) and token not in question.words
            for token in words(undated)
        )
    if kind is AnswerKind.DATE:
        dates = [m.group(0).lower() for m in _YEAR.finditer(sentence)]
        dates += [t for t in words(sentence) if t in _DATE_WORDS]
        return any(date not in question.words for date in dates)
    return bool(_names(sentence) - question.names)


def _answer_proximity(sentence: str, question: _Question) -> float:
    """1 when a new answer of the asked kind sits right next to a word of the question
    ("Prime Minister Mohammed Shia al-Sudani", "2,500 U.S. troops"), falling with distance."""
    if question.kind is AnswerKind.ANY:
        return 0.0
    tokens = words(sentence)
    question_terms = question.terms
    anchors = [
        i
        for i, t in enumerate(tokens)
        if t not in STOPWORDS and terms(t) and terms(t)[0] in question_terms
    ]
    if question.kind is AnswerKind.NAME:
        names = _names(sentence) - question.names
        answers = [i for i, t in enumerate(tokens) if t in names]
    elif question.kind is AnswerKind.NUMBER:
        answers = [
            i
            for i, t in enumerate(tokens)
            if (t[0].isdigit() or t in _NUMBER_WORDS) and t not in question.words
        ]
    else:
        answers = [
            i
            for i, t in enumerate(tokens)
            if (t in _DATE_WORDS or _YEAR.fullmatch(t)) and t not in question.words
        ]
    if not anchors or not answers:
        return 0.0
    distance = min(abs(a - b) for a in anchors for b in answers)
    return 1.0 / (1.0 + distance / 3)


@dataclass(frozen=True, slots=True)
class SelectionWeights:
    """How much each signal adds to a candidate sentence's score (each signal is 0 to 1)."""

    similarity: float = 1.0  # the sentence vector's similarity, rescaled among the candidates
    coverage: float = 0.8  # share of the question's content words in the sentence
    kind: float = 0.5  # holds an answer of the kind asked for
    rank: float = 0.3  # its passage's retrieval rank (1 / (1 + rank))
    proximity: float = 0.4  # the answer sits next to a word of the question


class ExtractiveAnswerer:
    def __init__(
        self, proper_nouns: frozenset[str], weights: SelectionWeights = SelectionWeights()
    ) -> None:
        self._proper_nouns = proper_nouns  # stems the corpus writes capitalised
        self._weights = weights

    def analyse(self, question: str) -> _Question:
        lowered = question.lower()
        kind = next(
            (k for k, pattern in _KIND_PATTERNS if pattern.search(lowered)), AnswerKind.ANY
        )
        constraints: list[frozenset[str]] = []
        for match in re.finditer(
            r"[A-Z][\w'\u2019-]*(?:\s+[A-Z][\w'\u2019-]*)*", normalize(question)
        ):
            phrase = [
                w for w in match.group(0).split() if w.lower().strip(".") not in _QUESTION_OPENERS
            ]
            stems = frozenset(terms(" ".join(phrase)))
            if stems:
                constraints.append(stems)
        asks_money = (
            kind is AnswerKind.NUMBER
            and "how many" not in lowered  # "how many times as much" asks for a ratio
            and bool(_ASKS_MONEY.search(lowered))
        )
        covered = set().union(*constraints) if constraints else set()
        for term in terms(question):
            if term not in covered and (term in self._proper_nouns or term.isdigit()):
                constraints.append(frozenset({term}))
        return _Question(
            question,
            kind,
            frozenset(terms(question)),
            tuple(constraints),
            frozenset(words(question)),
            frozenset(_names(question)),
            asks_money,
            kind is AnswerKind.NUMBER and not asks_money and "how much" in lowered,
        )

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
        constrained = set().union(*profile.constraints) if profile.constraints else set()
        focus = [t for t in profile.terms if t not in constrained and t not in _QUESTION_SHAPE]
        rank_of = {hit.passage.chunk_id: rank for rank, hit in enumerate(hits)}
        similarities = np.stack([s.vector for s in sentences]) @ question_vector
        low = float(similarities.min())
        spread = float(similarities.max()) - low or 1.0
        scored: list[tuple[float, IndexedSentence, bool]] = []
        for sentence, similarity in zip(sentences, similarities, strict=True):
            window = sentence.terms | sentence.context_terms
            new_names = _has_kind(sentence.text, AnswerKind.NAME, profile)
            if not _constraints_hold(
                profile.constraints,
                window,
                sentence.document_terms,
                new_names,
                profile.kind in (AnswerKind.NUMBER, AnswerKind.DATE),
            ):
                continue
            matched = sum(term_matches(t, window) for t in focus)
            if focus and matched < min(_ENOUGH_FOCUS_TERMS, len(focus) * _MIN_FOCUS_COVERAGE):
                continue
            if not profile.constraints and not matched:
                continue  # nothing of the question is in this sentence: off-topic
            kind_ok = _has_kind(sentence.text, profile.kind, profile)
            weights = self._weights
            score = (
                weights.similarity * (float(similarity) - low) / spread
                + weights.coverage * (matched / len(focus) if focus else 1.0)
                + weights.kind * kind_ok
                + weights.rank / (1 + rank_of.get(sentence.passage.chunk_id, len(hits)))
                + weights.proximity * _answer_proximity(sentence.text, profile)
            )
            scored.append((score, sentence, kind_ok))
        scored.sort(key=lambda item: -item[0])
        for _, sentence, kind_ok in scored:
            follower = self._follower(sentence, sentences)
            if kind_ok:
                if follower is not None and _CONTINUATION.match(follower.text):
                    return [sentence, follower]  # it only makes sense with its lead
                return [sentence]
            # The answer is often the next sentence: "...killed a leader. The leader was X."
            if (
                follower is not None
                and _has_kind(follower.text, profile.kind, profile)
                and any(term_matches(t, follower.terms) for t in focus)
                and not _switches_subject(sentence.text, follower.text, set(profile.names))
            ):
                return [sentence, follower]
        return []

    @staticmethod
    def _follower(
        sentence: IndexedSentence, sentences: Sequence[IndexedSentence]
    ) -> IndexedSentence | None:
        return next(
            (
                s
                for s in sentences
                if s.passage is sentence.passage and s.position == sentence.position + 1
            ),
            None,
        )
