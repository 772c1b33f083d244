from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.errors import QuestionError
from retrieval.models import NOT_COVERED, NOT_EXACTLY
from retrieval.service import KnowledgeBase
from tests.conftest import SEED, SEED_QUESTIONS


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many U.S. troops are stationed in Iraq?", "2,500"),
        ("Who is Justin Logan?", "Cato Institute"),
        ("Who was killed in the U.S. strike in Baghdad?", "Abu Taqwa"),
        ("How much control does Iraq's leader have over the Iran-backed factions?", "limited"),
    ],
)
def test_answers_cite_verbatim_quotes_that_hold_the_answer(
    kb: KnowledgeBase, question: str, expected: str
) -> None:
    answer = kb.ask(question)
    source = SEED.read_text(encoding="utf-8")
    assert answer.grounded
    assert answer.mode == "extractive"
    assert any(expected in citation.quote for citation in answer.citations)
    for citation in answer.citations:
        assert source[citation.start : citation.end] == citation.quote
        assert f"[{citation.n}]" in answer.text
        assert citation.document == SEED.name
        assert citation.title
        assert citation.date == "2024-01-06"


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "What is the recipe for hummus?",
    ],
)
def test_questions_the_documents_do_not_answer_are_declined(
    kb: KnowledgeBase, question: str
) -> None:
    answer = kb.ask(question)
    assert not answer.grounded
    assert answer.citations == ()
    assert answer.text.startswith(NOT_COVERED)
    assert answer.suggestions
    assert answer.suggestions[0] in answer.text
    assert not answer.text.endswith(("..", "….")), answer.text  # the seed's title ends in "…"


def test_every_answer_is_answered_closest_or_not_covered_with_verbatim_quotes(
    kb: KnowledgeBase,
) -> None:
    """Whatever the models decide, each outcome looks like itself: an answer cites, "the
    closest passage" says the documents don't say it exactly and cites, a decline does not."""
    source = SEED.read_text(encoding="utf-8")
    outcomes = set()
    for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines():
        answer = kb.ask(json.loads(line)["question"])
        assert answer.confidence is not None
        assert 0.0 <= answer.confidence <= 1.0
        for citation in answer.citations:
            assert source[citation.start : citation.end] == citation.quote
            assert f"[{citation.n}]" in answer.text
        if answer.grounded:
            outcomes.add("answered")
            assert answer.citations
        elif answer.citations:
            outcomes.add("closest")
            assert answer.text.startswith(NOT_EXACTLY)
        else:
            outcomes.add("not covered")
            assert answer.text.startswith(NOT_COVERED)
    assert {"answered", "not covered"} <= outcomes


def test_a_quote_that_no_longer_matches_its_source_is_never_shown(
    kb: KnowledgeBase, settings: Settings
) -> None:
    path = settings.sources_dir / SEED.name
    path.write_text(path.read_text(encoding="utf-8").replace("2,500", "3,000"), encoding="utf-8")
    answer = kb.ask("How many U.S. troops are stationed in Iraq?")  # served from the old index
    assert not answer.grounded
    assert answer.citations == ()
    assert "2,500" not in answer.text
    assert answer.note
    assert "ingest" in answer.note


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\U0001f642\U0001f642\U0001f642", "no letters or digits"),
        ("?! ...", "no letters or digits"),
        ("why" * 3334, "10,002 characters"),
    ],
)
def test_unusable_questions_raise_a_clear_error(
    kb: KnowledgeBase, question: str, message: str
) -> None:
    with pytest.raises(QuestionError, match=message):
        kb.ask(question)


def test_ensure_index_keeps_serving_when_a_source_breaks(
    kb: KnowledgeBase, settings: Settings
) -> None:
    version = kb.manifest().version
    (settings.sources_dir / "broken.txt").write_bytes(b"\x00\x01\x02")
    assert kb.ensure_index() is None
    assert kb.manifest().version == version
    assert kb.ask("How many U.S. troops are stationed in Iraq?").grounded


def test_a_new_process_answers_from_the_index_on_disk(
    kb: KnowledgeBase, settings: Settings
) -> None:
    reopened = open_knowledge_base(settings)
    assert reopened.manifest() == kb.manifest()
    assert reopened.ask("Who is Justin Logan?").grounded


def test_search_ranks_the_answer_passage_first(kb: KnowledgeBase) -> None:
    hits = kb.search("Who is Justin Logan?", 3)
    assert "Justin Logan" in hits[0].passage.text
    assert hits[0].score >= hits[-1].score
    assert Path(hits[0].passage.doc_id).name == SEED.name
