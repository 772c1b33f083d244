"""How a question is read before it is searched and answered: capitals in lower case, and a
word misspelt by one letter as the corpus's word it was meant to be."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from retrieval.evidence.features import profile_question
from retrieval.evidence.pipeline import in_corpus_language
from retrieval.models import CorpusStatistics
from retrieval.text import without_shouting

# Shorter words have many neighbours one letter away ("sing": "sign", "song", "sine"), so a
# correction would be a guess.
SHORTEST_CORRECTED = 4
# The dictionary is English: it is used only when nearly all of the corpus's common words are
# in it (a third to a half of German, Spanish or French function words are: "die", "son").
DICTIONARY_COVERAGE = 0.9

_WORD = re.compile(rf"\b[A-Za-z]{{{SHORTEST_CORRECTED},}}\b")
_LETTERS = string.ascii_lowercase


@lru_cache(maxsize=1)  # 0.2 s to load, and the same for every knowledge base of a process
def english_words() -> frozenset[str]:
    """The words of pyspellchecker's English list (160,000, from subtitle word counts)."""
    from spellchecker import SpellChecker  # noqa: PLC0415 (only the list is wanted)

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.dictionary)


def one_letter_away(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return (
        {left + right[1:] for left, right in splits if right}
        | {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
        | {left + c + right[1:] for left, right in splits if right for c in _LETTERS}
        | {left + c + right for left, right in splits for c in _LETTERS}
    )


@dataclass(frozen=True, slots=True)
class Reading:
    text: str  # the question as searched and answered
    corrections: tuple[tuple[str, str], ...] = ()  # (as typed, as read) of each word read so


class QuestionReader:
    """Reads a question as its writer meant it. A word of four letters or more that is
    neither in the dictionary nor in the corpus is read as the corpus's most frequent word one
    letter away, if there is one ("Hatmanis" as "Hartmanis"): unknown to the corpus, it would
    weigh as the rarest word there is, and every passage would lack it. Only for a question in
    the corpus's language, over a corpus in the dictionary's."""

    def __init__(self, dictionary: Iterable[str]) -> None:
        self._dictionary = frozenset(dictionary)

    def read(self, question: str, corpus: CorpusStatistics) -> Reading:
        question = without_shouting(question)
        if not self._corrects(question, corpus):
            return Reading(question)
        corrections: dict[str, str] = {}

        def corrected(match: re.Match[str]) -> str:
            typed = match.group(0)
            word = typed.lower()
            if word in self._dictionary or word in corpus.word_counts:
                return typed
            near = [
                (corpus.word_counts[w], w)
                for w in one_letter_away(word)
                if w in corpus.word_counts
            ]
            if not near:
                return typed
            _, meant = max(near)
            corrections[typed] = meant.capitalize() if typed[0].isupper() else meant
            return corrections[typed]

        text = _WORD.sub(corrected, question)
        return Reading(text, tuple(corrections.items()))

    def _corrects(self, question: str, corpus: CorpusStatistics) -> bool:
        common = corpus.common_words
        known = sum(word in self._dictionary for word in common)
        if not common or known < DICTIONARY_COVERAGE * len(common):
            return False
        profile = profile_question(question, corpus.idf, corpus.unseen_idf)
        return in_corpus_language(profile, corpus)
