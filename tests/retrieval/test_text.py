from __future__ import annotations

from retrieval.models import Span
from retrieval.text import (
    ends_sentence,
    script,
    split_long,
    split_sentences,
    terms,
    without_shouting,
)


def sentences(text: str) -> list[str]:
    return [span.of(text) for span in split_sentences(text)]


def test_abbreviations_do_not_end_a_sentence() -> None:
    text = (
        "The U.S. Strike happened. Dr. Smith met J. Doe in Jan. 2024 at 5 p.m. on Friday. "
        "Then he left."
    )
    assert sentences(text) == [
        "The U.S. Strike happened.",
        "Dr. Smith met J. Doe in Jan. 2024 at 5 p.m. on Friday.",
        "Then he left.",
    ]


def test_quotes_and_paragraphs_bound_sentences() -> None:
    text = (
        "\u201cWe stress our position,\u201d Sudani said.\nA heading\nNext paragraph! Is it? Yes."
    )
    assert sentences(text) == [
        "\u201cWe stress our position,\u201d Sudani said.",
        "A heading",
        "Next paragraph!",
        "Is it?",
        "Yes.",
    ]


def test_soft_wrapped_lines_stay_one_sentence() -> None:
    text = (
        "This sentence is wrapped in the middle because the writer used a narrow editor and\n"
        "it continues here."
    )
    assert sentences(text) == [text]


def test_crlf_and_ideographic_sentence_ends() -> None:
    text = "  First one.  Second one.\r\nThird one.\r\n"
    assert sentences(text) == ["First one.", "Second one.", "Third one."]
    assert sentences("\u6f22\u5b57\u3002\u6b21\u3002") == ["\u6f22\u5b57\u3002", "\u6b21\u3002"]


def test_long_runs_are_cut_at_word_boundaries() -> None:
    text = "word " * 100
    pieces = split_long(text, Span(0, len(text.rstrip())), 60)
    assert all(piece.end - piece.start <= 60 for piece in pieces)
    assert " ".join(piece.of(text) for piece in pieces) == text.strip()
    unbroken = "x" * 250
    assert [p.end - p.start for p in split_long(unbroken, Span(0, 250), 100)] == [100, 100, 50]


def test_terms_fold_spellings_and_drop_function_words() -> None:
    assert terms("How many U.S. troops were stationed there?") == ["us", "troop", "station"]
    assert terms("2,500 soldiers") == ["2500", "soldier"]


def test_the_script_is_the_one_most_letters_are_written_in() -> None:
    assert script("Wer ist der Premierminister des Irak?") == "latin"
    assert script("Кто премьер-министр Ирака (Iraq)?") == "cyrillic"
    assert script("伊拉克总理是谁？") == "cjk"
    assert script("2,500 🙂") == "none"


def test_a_sentence_ends_in_its_mark_and_any_closing_quote() -> None:
    for finished in ("a destabilizing…", "He said “yes.”", "终于。 ", "Why?)"):
        assert ends_sentence(finished), finished
    for unfinished in ("the Iraqi", "2,500", "a list:"):
        assert not ends_sentence(unfinished), unfinished


def test_a_message_in_capitals_is_read_in_lower_case_and_any_other_as_typed() -> None:
    shouted = "WHICH THINK TANK DOES JUSTIN LOGAN WORK FOR?"
    assert without_shouting(shouted) == shouted.lower()
    assert without_shouting("СКОЛЬКО СОЛДАТ?") == "сколько солдат?"
    assert without_shouting("İSTANBUL?") == "istanbul?"  # no combining dot left over
    for typed in (
        "What did the IMF say?",
        "who is sudani",
        "JUSTIN LOGAN 在哪个智库工作？",
        "2,500",
    ):
        assert without_shouting(typed) == typed
