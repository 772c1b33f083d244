"""How a question is read: its language, and misspelt words as the corpus's. On an invented
article, with a dictionary given as a word list (and once the shipped English one)."""

from __future__ import annotations

import pytest

from retrieval.index.sentences import corpus_statistics
from retrieval.models import CorpusStatistics, Reading
from retrieval.reading import QuestionReader, english_words, one_letter_away
from tests.fakes.embedder import FakeCorpus

DEPLOYMENT = """Harbour force sent north

The navy has sent a small harbour force to Velmora and Ostrand this spring. It is the first
deployment of its kind since the treaty was signed. The force is small.

About 900 sailors are stationed in Velmora, the defence ministry said. They are there to train
the local coast guard. Velmora has a port; Velmira has none.
"""


@pytest.fixture(scope="module")
def statistics() -> CorpusStatistics:
    return corpus_statistics(FakeCorpus.of({"deployment.txt": DEPLOYMENT}).all_sentences())


@pytest.fixture(scope="module")
def reader(statistics: CorpusStatistics) -> QuestionReader:
    """A dictionary of the corpus's function words and a few others, as the English list is."""
    return QuestionReader(statistics.common_words | {"forte", "many", "how", "where"})


def test_a_word_neither_known_nor_in_the_corpus_is_read_as_the_corpus_word_one_letter_away(
    reader: QuestionReader, statistics: CorpusStatistics
) -> None:
    assert reader.read("How many sailors are in Velmra?", statistics).text == (
        "How many sailors are in Velmora?"  # the more frequent of Velmora and Velmira
    )
    assert reader.read("how many sailers are in velmora?", statistics).text == (
        "how many sailors are in velmora?"
    )
    assert reader.read("How many sailers are in Velmra?", statistics).read_as == (
        ("sailers", "sailors"),
        ("Velmra", "Velmora"),
    )
    # Capitals are read in lower case first, as before.
    assert reader.read("HOW MANY SAILORS ARE IN VELMRA?", statistics).text == (
        "how many sailors are in velmora?"
    )


def test_known_words_short_words_and_words_far_from_any_are_left_as_typed(
    reader: QuestionReader, statistics: CorpusStatistics
) -> None:
    for question in (
        "Is the forte in Velmora?",  # in the dictionary, though one letter from "force"
        "Is the nvy in Velmora?",  # three letters: too many neighbours to guess
        "Is the Grelbix fleet in Velmora?",  # nothing one letter away
        "How many sailors are in Velmora?",
    ):
        assert reader.read(question, statistics) == Reading(question, in_corpus_language=True)


def test_nothing_is_corrected_in_another_language_or_over_a_corpus_in_another(
    reader: QuestionReader, statistics: CorpusStatistics
) -> None:
    german = "Wo liegt Velmra?"  # no function word of the corpus's: another language
    assert reader.read(german, statistics) == Reading(german, in_corpus_language=False)
    # A dictionary without the corpus's common words is of another language than the corpus.
    other = QuestionReader({"der", "die", "und", "wo", "liegt"})
    assert other.read("How many sailors are in Velmra?", statistics).text == (
        "How many sailors are in Velmra?"
    )


def test_without_a_dictionary_of_its_language_a_question_is_judged_by_function_words(
    statistics: CorpusStatistics,
) -> None:
    """The corpus's common words: the function words of its language, whatever it is."""
    reader = QuestionReader(())  # no word of the corpus's language
    assert reader.read("How many sailors are there?", statistics).in_corpus_language
    russian = reader.read("Сколько моряков находится в Вельморе?", statistics)
    assert not russian.in_corpus_language
    # Too short to hold a function word: its words are matched, or found missing, unless it
    # is written in another script than the corpus's.
    assert "thanks" not in statistics.common_words
    for message in ("thanks", "Danke schön", "2024"):
        assert reader.read(message, statistics).in_corpus_language, message
    # Chinese has no spaces: a whole question is one "word", so its length says nothing.
    for message in ("моряки", "Вельмор?", "Danke schön, wie geht es", "谁领导舰队？"):
        assert not reader.read(message, statistics).in_corpus_language, message


def test_with_a_dictionary_a_question_is_judged_by_the_share_of_its_words_it_knows(
    statistics: CorpusStatistics,
) -> None:
    english = {"what", "prison", "sentence", "did", "receive"}
    reader = QuestionReader(statistics.common_words | english)
    # None of the corpus's common words, and English: its words are in the dictionary (the
    # name, capitalised, counts for no language).
    plain = "What prison sentence did Brandt receive?"
    assert not statistics.common_words & set(plain.lower().rstrip("?").split())
    assert reader.read(plain, statistics).in_corpus_language
    # German that shares "in" with the corpus: one of its four words is known.
    german = "Wie viele Matrosen sind in Velmora?"
    assert not reader.read(german, statistics).in_corpus_language
    assert QuestionReader(()).read(german, statistics).in_corpus_language  # by "in" alone
    # A misspelt word counts for no language: "frce" would make a third of this unknown.
    topic = reader.read("the frce in Velmra", statistics)
    assert topic == Reading(
        "the force in Velmora", True, (("frce", "force"), ("Velmra", "Velmora"))
    )


def test_one_letter_away_covers_the_four_slips() -> None:
    near = one_letter_away("navy")
    assert {"nav", "anvy", "nacy", "nnavy"} <= near  # deleted, swapped, replaced, added
    assert {"nvay", "nayv"} <= near  # each other pair of neighbours swapped
    assert "vany" not in near  # two letters away


def test_the_shipped_english_list_knows_words_and_not_names() -> None:
    known = english_words()
    assert len(known) > 100_000
    assert {"treaty", "sailors", "stationed", "where"} <= known
    assert not {"velmora", "velmra", "sailers"} & known
