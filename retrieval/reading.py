"""How a question is read before it is searched and answered: capitals in lower case, whether
it is written in the corpus's language, and a word misspelt by one letter as the corpus's
word it was meant to be."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from functools import lru_cache

from retrieval.models import CorpusStatistics, Reading
from retrieval.text import normalize, script, without_shouting, words

# Shorter words have many neighbours one letter away ("sing": "sign", "song", "sine"), so a
# correction would be a guess.
SHORTEST_CORRECTED = 4
# The dictionary is English: it is used only when nearly all of the corpus's common words are
# in it (a third to a half of German, Spanish or French function words are: "die", "son").
DICTIONARY_COVERAGE = 0.9
# A question is in the corpus's language when this share of its words (of those not
# capitalised, which are names in any language, nor one letter from a word of the corpus's)
# are in the dictionary or the corpus. On the tuning halves the English questions have 0.84 or
# more (in capitals too), the questions in other languages 0.67 or less over the seed they
# are about: the middle, rounded. (Over the news corpus, one Spanish question has 0.8:
# "es", "el" and "de" are in the list too.)
KNOWN_SHARE = 0.75
# Messages of fewer distinct words than this rarely hold a function word in any language
# ("thanks", "Daesh?", "Danke schön"), nor enough words for a share to mean anything.
SHORTEST_SENTENCE = 3

_WORD = re.compile(rf"\b[A-Za-z]{{{SHORTEST_CORRECTED},}}\b")
_LETTERS_ONLY = re.compile(r"[^\W\d_]+")
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


def shares_function_words(text: str, corpus: CorpusStatistics) -> bool:
    """The language test without a dictionary: whether the question shares function words
    with the corpus ("the", "of", "is" for English). A message of one or two words is a topic
    or small talk, not a sentence: it is taken as in the corpus's language unless it is
    written in another script than the corpus's common words, so that its words are matched
    ("Daesh") or found missing ("thanks"). Chinese and Japanese have no spaces to count words
    by, so a question in them is judged by its function words alone."""
    found = set(words(text))
    if found & corpus.common_words:
        return True
    written = script(text)
    if written == "cjk" or len(found) >= SHORTEST_SENTENCE:
        return False
    return written in ("none", corpus.common_script)


class QuestionReader:
    """Reads a question as its writer meant it, with a dictionary of the corpus's language
    when it has one (else by function words alone, and without corrections).

    A word of four letters or more that is neither in the dictionary nor in the corpus is
    read as the corpus's most frequent word one letter away, if there is one ("Hatmanis" as
    "Hartmanis"): unknown to the corpus, it would weigh as the rarest word there is, and every
    passage would lack it. Only for a question in the corpus's language."""

    def __init__(self, dictionary: Iterable[str]) -> None:
        self._dictionary = frozenset(dictionary)

    def read(self, question: str, corpus: CorpusStatistics) -> Reading:
        text = without_shouting(question)
        covered = self._covers(corpus)
        corrected, corrections = self._corrected(text, corpus) if covered else (text, {})
        # A word one letter from the corpus's says nothing of the language: a misspelling would
        # count against English, and a cognate ("presidente") for it.
        misspelt = {typed.lower() for typed in corrections}
        if not self._in_corpus_language(text, corpus, covered, misspelt):
            return Reading(text, in_corpus_language=False)
        return Reading(corrected, in_corpus_language=True, read_as=tuple(corrections.items()))

    def _corrected(self, text: str, corpus: CorpusStatistics) -> tuple[str, dict[str, str]]:
        """The text with each word read as the corpus's word one letter away, where it is in
        neither the dictionary nor the corpus, and (as typed, as read) for each."""
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

        return _WORD.sub(corrected, text), corrections

    def _covers(self, corpus: CorpusStatistics) -> bool:
        """Whether the corpus is written in the dictionary's language."""
        common = corpus.common_words
        known = sum(word in self._dictionary for word in common)
        return bool(common) and known >= DICTIONARY_COVERAGE * len(common)

    def _in_corpus_language(
        self, text: str, corpus: CorpusStatistics, covered: bool, misspelt: set[str]
    ) -> bool:
        """By the share of its words that are known, when the dictionary is of the corpus's
        language; by function words when not, or for a message too short for a share."""
        if covered and len(set(words(text))) >= SHORTEST_SENTENCE:
            tokens = _LETTERS_ONLY.findall(normalize(text))
            # The first word is capitalised because it is first: it is kept.
            counted = [t.lower() for i, t in enumerate(tokens) if i == 0 or not t[0].isupper()]
            counted = [word for word in counted if word not in misspelt]
            if counted:
                known = sum(w in self._dictionary or w in corpus.word_counts for w in counted)
                return known >= KNOWN_SHARE * len(counted)
        return shares_function_words(text, corpus)
