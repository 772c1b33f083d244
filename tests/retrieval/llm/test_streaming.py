"""`AnswerService.ask_streaming` in LLM mode: a draft shows only finished sentences that pass
the answer's checks, the checked answer comes last, and a hung stream ends at the deadline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.models import Answer, AnswerUpdate
from retrieval.service import KnowledgeBase
from tests.fakes.model_replies import passage_number
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.retrieval.llm.conftest import QUESTION


async def updates(kb: KnowledgeBase, question: str = QUESTION) -> list[AnswerUpdate]:
    return [update async for update in kb.ask_streaming(question)]


def final(steps: list[AnswerUpdate]) -> Answer:
    assert steps, "no updates"
    assert all(step.answer is None for step in steps[:-1])
    last = steps[-1].answer
    assert last is not None, "the checked answer must come last"
    return last


async def test_drafts_hold_only_checked_sentences(llm_kb: KnowledgeBase, fake: FakeOpenAI) -> None:
    def model(body: dict[str, Any]) -> str:
        troops, logan = passage_number(body, "2,500"), passage_number(body, "Justin Logan")
        return (
            "<<<QUESTION\nHow many troops?\nQUESTION>>>\n"
            f"They will all leave next week. About 2,500 U.S. troops are in Iraq [{troops}]. "
            f"Assistant: the key is hidden [{troops}]. "
            f"Justin Logan works for the Heritage Foundation [{logan}]. "
            f"Justin Logan suggests that U.S. forces are there to counter Iran [{logan}]."
        )

    fake.responder = model
    steps = await updates(llm_kb)
    answer = final(steps)
    drafts = [step.draft for step in steps[:-1]]
    assert drafts, "a draft is shown while the model writes"
    assert drafts[0] == "About 2,500 U.S. troops are in Iraq."
    for draft in drafts:
        for never in ("QUESTION", "leave next week", "Assistant", "key", "Heritage", "[", "<<<"):
            assert never not in draft
    assert drafts[-1] == (
        "About 2,500 U.S. troops are in Iraq. "
        "Justin Logan suggests that U.S. forces are there to counter Iran."
    )
    assert answer.mode == "llm"
    assert answer.text == (
        "About 2,500 U.S. troops are in Iraq. [1] "
        "Justin Logan suggests that U.S. forces are there to counter Iran. [2]"
    )


async def test_a_reply_of_uncited_text_shows_no_draft(
    llm_kb: KnowledgeBase, fake: FakeOpenAI
) -> None:
    fake.responder = lambda body: "About 2,500 troops are there. They are leaving soon."
    steps = await updates(llm_kb)
    answer = final(steps)
    assert len(steps) == 1  # no draft at all: nothing passed the checks
    assert answer.mode == "extractive"
    assert answer.fallback == "no_valid_citation"


async def test_a_stream_hanging_midway_falls_back_at_the_deadline(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    kb = open_knowledge_base(llm_settings(llm_deadline=1.0))
    kb.ingest()
    fake.responder = lambda body: Reply(
        content=f"About 2,500 U.S. troops are in Iraq [{passage_number(body, '2,500')}]. More",
        delay=3600,
        stream_stall_after=12,  # after the first sentence, its citation and one more word
    )
    steps = await updates(kb)
    answer = final(steps)
    kb.close()
    assert answer.mode == "extractive"
    assert answer.fallback == "timeout"
    assert "2,500" in answer.text
    assert [step.draft for step in steps[:-1]] == ["About 2,500 U.S. troops are in Iraq."]
    (request,) = fake.requests_of("chat/completions")
    await asyncio.to_thread(fake.wait_for_abandoned_sync, request)  # cancelled mid-stream
    fallbacks = [r for r in caplog.records if "answering extractively" in r.getMessage()]
    assert len(fallbacks) == 1


async def test_a_hung_stream_is_cancelled(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    kb = open_knowledge_base(llm_settings(llm_deadline=1.0))
    kb.ingest()
    fake.script(Reply.hang())
    answer = final(await updates(kb))
    kb.close()
    assert answer.fallback == "timeout"
    (request,) = fake.requests_of("chat/completions")
    await asyncio.to_thread(fake.wait_for_status_sync, request, 499)


async def test_a_cut_off_stream_loses_its_unfinished_sentence(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    kb = open_knowledge_base(llm_settings(llm_max_tokens=16))
    kb.ingest()
    fake.responder = lambda body: (
        f"About 2,500 U.S. troops are in Iraq [{passage_number(body, '2,500')}]. "
        "Sudani said that the troops will leave by March."
    )
    steps = await updates(kb)
    answer = final(steps)
    kb.close()
    assert answer.mode == "llm"
    assert answer.text == "About 2,500 U.S. troops are in Iraq. [1]"
    assert all("Sudani" not in step.draft for step in steps)
