"""Follow-ups: the rewrite is asked for only when a message leans on the conversation, and used
only when it is one plausible question."""

from __future__ import annotations

from typing import Any

import pytest

from retrieval.llm.followup import plausible_rewrite, reads_as_follow_up
from retrieval.models import Turn
from retrieval.service import KnowledgeBase
from tests.fakes.model_replies import passage_number, user_text
from tests.fakes.openai_api import FakeOpenAI

HISTORY = [Turn("Who is Justin Logan?", "He works at the Cato Institute [1].")]


@pytest.mark.parametrize(
    ("message", "follow_up"),
    [
        ("And what did he argue?", True),
        ("Why do they want that?", True),
        ("How many troops are there?", True),  # "there": where we were talking about
        ("Why?", True),
        ("Syria?", True),
        ("and in Syria", True),
        ("Was sagte er?", True),
        ("Is that true?", True),
        ("How many U.S. troops are stationed in Iraq?", False),
        ("Who argued that U.S. forces are sitting ducks?", False),  # "that", a conjunction
        ("Are there U.S. troops in Syria?", False),
        ("Who killed Abu Taqwa in Baghdad?", False),
        ("What did Justin Logan of the Cato Institute argue?", False),
    ],
)
def test_what_reads_as_a_follow_up(message: str, follow_up: bool) -> None:
    assert reads_as_follow_up(message) is follow_up


@pytest.mark.parametrize(
    ("rewrite", "used"),
    [
        ("What did Justin Logan argue?", "What did Justin Logan argue?"),
        ('"What did Justin Logan argue?"', "What did Justin Logan argue?"),
        ("Standalone question: What did Justin Logan argue?", "What did Justin Logan argue?"),
        ("User: What did Justin Logan argue?", None),
        ("What did Justin Logan argue?\nAssistant: He said...", None),
        ("Justin Logan argued that U.S. forces are sitting ducks.", None),  # an answer
        ("Who is Justin Logan? What did he argue?", None),  # two questions
        ("What did Justin Logan argue " + "about it " * 60 + "?", None),  # far too long
        ("<<<NEW MESSAGE What did he argue? NEW MESSAGE>>>", None),
    ],
)
def test_only_one_plausible_question_is_used(rewrite: str, used: str | None) -> None:
    history_chars = sum(len(t.question) + len(t.answer) for t in HISTORY)
    assert plausible_rewrite(rewrite, "And what did he argue?", history_chars) == used


def _model(rewrite: str) -> Any:
    def reply(body: dict[str, Any]) -> str:
        if "<<<CONVERSATION" in user_text(body):
            return rewrite
        return f"He argued U.S. forces are sitting ducks [{passage_number(body, 'ducks')}]."

    return reply


def _questions_asked(fake: FakeOpenAI) -> list[str]:
    texts = [user_text(call.body) for call in fake.requests_of("chat/completions")]
    return [
        t.split("<<<QUESTION\n")[1].split("\nQUESTION>>>")[0] for t in texts if "<<<QUESTION" in t
    ]


def test_a_standalone_question_is_not_rewritten(llm_kb: KnowledgeBase, fake: FakeOpenAI) -> None:
    fake.responder = _model("SHOULD NOT BE ASKED?")
    llm_kb.ask("Who argued that U.S. forces are sitting ducks?", history=HISTORY)
    assert all("<<<CONVERSATION" not in user_text(c.body) for c in fake.requests_of("chat"))
    assert _questions_asked(fake) == ["Who argued that U.S. forces are sitting ducks?"]


def test_a_transcript_instead_of_a_question_is_ignored(
    llm_kb: KnowledgeBase, fake: FakeOpenAI
) -> None:
    fake.responder = _model(
        "User: Who is Justin Logan?\nAssistant: He works at the Cato Institute.\n"
        "User: What did Justin Logan argue?"
    )
    answer = llm_kb.ask("And what did he argue?", history=HISTORY)
    assert _questions_asked(fake) == ["And what did he argue?"]
    assert answer.question == "And what did he argue?"


def test_a_plausible_rewrite_is_what_the_model_answers(
    llm_kb: KnowledgeBase, fake: FakeOpenAI
) -> None:
    fake.responder = _model("What did Justin Logan argue about U.S. forces?")
    answer = llm_kb.ask("And what did he argue?", history=HISTORY)
    assert _questions_asked(fake) == ["What did Justin Logan argue about U.S. forces?"]
    assert answer.mode == "llm"
    assert "sitting ducks" in answer.citations[0].quote
