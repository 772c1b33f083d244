"""LLM mode against a hostile fake server: bounded generation (max_tokens, one deadline per
answer), looping, echoing and fragmentary models, and claims their citation does not support.
Outcomes are asserted, never durations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from config import Settings, SettingsError
from retrieval.composition import open_knowledge_base
from retrieval.models import Turn
from retrieval.service import KnowledgeBase
from tests.fakes.model_replies import cites, passage_number, user_text
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.retrieval.llm.conftest import KEY, QUESTION

SUPPORTED = "About 2,500 U.S. troops are in Iraq."
TURN = Turn("Who is Justin Logan?", "He works at the Cato Institute [1].")


def open_kb(settings: Settings) -> KnowledgeBase:
    kb = open_knowledge_base(settings)
    kb.ingest()
    return kb


def troops(body: dict[str, Any]) -> int:
    return passage_number(body, "2,500")


def test_every_request_sends_max_tokens(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    kb = open_kb(llm_settings(llm_max_tokens=200))

    def model(body: dict[str, Any]) -> str:
        if "<<<CONVERSATION" in user_text(body):
            return "What did Justin Logan argue about U.S. forces?"
        if "<<<TOPIC" in user_text(body):
            return f"BOTTOM LINE: Iraq is ready for the 2,500 troops to go home [{troops(body)}]."
        return f"{SUPPORTED} [{troops(body)}]"

    fake.script("Uncited, so the answer is regenerated.")
    fake.responder = model
    kb.ask(QUESTION)  # an answer, and its regeneration
    kb.ask("And what did he argue?", history=[TURN])  # a rewrite, then an answer
    kb.brief()
    kb.close()
    requests = fake.requests_of("chat/completions")
    assert len(requests) == 5
    assert [call.max_tokens for call in requests] == [200] * 5


def test_a_model_looping_until_max_tokens_gives_one_sentence(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    kb = open_kb(llm_settings(llm_max_tokens=40))
    fake.responder = lambda body: Reply.repeating(f"{SUPPORTED} [{troops(body)}]")
    answer = kb.ask(QUESTION)
    kb.close()
    (request,) = fake.requests_of("chat/completions")  # repeats are not regenerated
    assert request.reply is not None
    assert request.reply.finish_reason == "length"
    assert answer.mode == "llm"
    assert answer.text == f"{SUPPORTED} [1]"
    assert "2,500" in answer.citations[0].quote


def test_a_reply_cut_off_at_max_tokens_drops_its_unfinished_sentence(
    llm_kb: KnowledgeBase, fake: FakeOpenAI
) -> None:
    fake.responder = lambda body: Reply.truncated(
        f"{SUPPORTED} [{troops(body)}] Sudani said the troops will leave by"
    )
    answer = llm_kb.ask(QUESTION)
    assert answer.mode == "llm"
    assert answer.text == f"{SUPPORTED} [1]"


def test_an_echo_of_the_prompt_never_ships(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    kb = open_kb(llm_settings(llm_max_tokens=4000))  # room for the answer after the echo
    fake.responder = lambda body: Reply(content=f"{SUPPORTED} [{troops(body)}]", echo_prompt=True)
    answer = kb.ask(QUESTION)
    kb.close()
    assert answer.mode == "llm"
    assert answer.text == f"{SUPPORTED} [1]"
    # The echo was a broken answer (sentences without citations): regenerated once.
    assert len(fake.requests_of("chat/completions")) == 2


def test_fragments_and_role_labels_never_ship(llm_kb: KnowledgeBase, fake: FakeOpenAI) -> None:
    def model(body: dict[str, Any]) -> str:
        n = troops(body)
        return (
            f"{SUPPORTED} [{n}]. [{n}] [{n}]. Iraq [{n}]. U.S. Forces in Iraq [{n}]. "
            f"[1, 2, 3] . User: what else? Assistant: nothing [{n}]."
        )

    fake.responder = model
    answer = llm_kb.ask(QUESTION)
    assert answer.mode == "llm"
    assert answer.text == f"{SUPPORTED} [1]"


def test_hostile_claims_are_removed_and_the_supported_one_kept(
    llm_kb: KnowledgeBase, fake: FakeOpenAI
) -> None:
    def model(body: dict[str, Any]) -> str:
        n = troops(body)
        return (
            f"{SUPPORTED} [{n}] Details are at https://troops.example.com/iraq [{n}]. "
            f"Sudani is not ready for the U.S. troops to go home [{n}]. "
            f"The troops will be replaced by NATO forces from Poland [{n}]."
        )

    fake.responder = model
    answer = llm_kb.ask(QUESTION)
    assert answer.mode == "llm"
    assert answer.text == f"{SUPPORTED} [1]"
    assert "example.com" not in answer.text


def test_only_unsupported_claims_fall_back_without_regenerating(
    llm_kb: KnowledgeBase, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake.responder = lambda body: (
        f"Sudani is not ready for the 2,500 U.S. troops to go home [{troops(body)}]. "
        f"See https://troops.example.com/iraq for the 2,500 troops [{troops(body)}]."
    )
    answer = llm_kb.ask(QUESTION)
    assert answer.mode == "extractive"
    assert answer.fallback == "no_valid_citation"
    assert "2,500" in answer.citations[0].quote
    assert len(fake.requests_of("chat/completions")) == 1  # citations were fine: no retry
    assert "negation 1" in caplog.text
    assert "literal 1" in caplog.text


def test_a_hung_server_gives_the_extractive_answer_at_the_deadline(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    kb = open_kb(llm_settings(llm_deadline=1.0, llm_timeout=30.0, llm_max_retries=2))
    fake.script(Reply.hang())
    answer = kb.ask(QUESTION)
    kb.close()
    assert answer.mode == "extractive"
    assert answer.fallback == "timeout"
    assert answer.grounded
    assert "2,500" in answer.text
    (request,) = fake.requests_of("chat/completions")  # not retried
    fake.wait_for_status_sync(request, 499)  # the request was cancelled, not left hanging
    fallbacks = [r for r in caplog.records if "answering extractively" in r.getMessage()]
    assert len(fallbacks) == 1
    assert "timeout" in fallbacks[0].getMessage()
    assert KEY not in caplog.text


def test_a_timeout_is_not_retried_but_a_rate_limit_is(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    kb = open_kb(llm_settings(llm_timeout=0.5, llm_deadline=30.0, llm_max_retries=2))
    fake.script(Reply.hang())
    assert kb.ask(QUESTION).fallback == "timeout"
    assert len(fake.requests_of("chat/completions")) == 1
    fake.script(Reply.rate_limited(retry_after_ms=10), Reply.server_error())
    fake.responder = cites("2,500", SUPPORTED)
    assert kb.ask(QUESTION).mode == "llm"
    kb.close()
    assert [c.status for c in fake.requests_of("chat/completions")[1:]] == [429, 500, 200]


def test_a_slow_rewrite_shares_the_answer_deadline(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    kb = open_kb(llm_settings(llm_deadline=1.0))
    fake.script(Reply.hang())  # the rewrite of the follow-up hangs
    fake.responder = cites("2,500", SUPPORTED)
    answer = kb.ask("And how many of them are there?", history=[TURN])
    kb.close()
    # The rewrite used up the deadline: the answer is not asked for at all.
    assert answer.fallback == "timeout"
    assert len(fake.requests_of("chat/completions")) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BRIEFBOT_LLM_MAX_TOKENS", "0"),
        ("BRIEFBOT_LLM_DEADLINE", "0"),
        ("BRIEFBOT_LLM_DEADLINE", "x"),
    ],
)
def test_bad_bounds_fail_naming_the_variable(
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        make_settings()


def test_the_defaults_bound_a_hung_answer_under_twenty_seconds(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    assert settings.llm_max_tokens == 512
    assert settings.llm_deadline < 20


async def test_no_more_requests_reach_the_model_at_once_than_the_limit(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    """Six chats asking at once with BRIEFBOT_LLM_MAX_CONCURRENT=2: the server never sees more
    than two requests at a time, and every question still gets the model's answer."""
    kb = open_kb(llm_settings(llm_max_concurrent=2))
    write = cites("2,500", SUPPORTED)
    fake.responder = lambda body: Reply(content=write(body), delay=0.5)

    async def ask() -> str:
        async for update in kb.ask_streaming(QUESTION):
            if update.answer is not None:
                return update.answer.mode
        raise AssertionError("no answer")

    modes = await asyncio.gather(*(ask() for _ in range(6)))
    kb.close()
    assert modes == ["llm"] * 6
    assert fake.peak_in_flight == 2
