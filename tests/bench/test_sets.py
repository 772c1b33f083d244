"""The question sets of bench.sets: each line reads, and each answer is in its document, so a
miss in the numbers is the answer step's and never a typo in the set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sets import CHECKS, MULTILINGUAL, OFFTOPIC_MULTILINGUAL, SETS, SMALL_TALK
from retrieval.evaluation import load_questions

# Each question file with the dev set whose sources it asks about.
QUESTION_FILES = [
    *((name, questions) for name, (_, questions) in SETS.items()),
    *((name, path) for name, checks in CHECKS.items() for path in checks.values()),
    ("seed", MULTILINGUAL),
]


def _label(item: tuple[str, Path]) -> str:
    return item[1].name


@pytest.mark.parametrize("set_and_file", QUESTION_FILES, ids=_label)
def test_every_answer_is_verbatim_in_the_document_it_is_asked_of(
    set_and_file: tuple[str, Path],
) -> None:
    name, path = set_and_file
    sources = SETS[name][0]
    if not sources.is_dir():
        pytest.skip(f"{sources} is read in place and is not on this machine")
    texts = {p: p.read_text(encoding="utf-8").lower() for p in sources.iterdir()}
    # A question names its document with its suffix (news) or without it (SQuAD).
    named = {key: text for p, text in texts.items() for key in (p.name, p.stem)}
    for question in load_questions(path):
        if question.unanswerable:
            continue
        documents = [named[question.doc]] if question.doc else list(texts.values())
        assert any(
            answer.lower() in text for answer in question.answer_any for text in documents
        ), f"{path.name}: no answer of {question.question!r} is in its document"


@pytest.mark.parametrize("path", [OFFTOPIC_MULTILINGUAL, SMALL_TALK], ids=lambda p: p.name)
def test_the_checks_that_nothing_answers_hold_no_answerable_question(path: Path) -> None:
    assert all(question.unanswerable for question in load_questions(path))


def test_no_question_is_in_two_files_of_the_same_sources() -> None:
    """A question in a dev set and a check as well would be fitted on and counted as unseen."""
    seen: dict[tuple[str, str], str] = {}
    for name, path in QUESTION_FILES:
        if not path.is_file():  # SQuAD's questions are read in place, beside its article
            continue
        for question in load_questions(path):
            key = (name, " ".join(question.question.lower().split()))
            assert seen.setdefault(key, path.name) == path.name, (
                f"{question.question!r} is in {seen[key]} and {path.name}"
            )
