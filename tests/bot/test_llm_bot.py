"""The bot in LLM mode, end to end: the fake Bot API and the fake OpenAI server together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from bot.app import build_application
from bot.context import Services
from config import Settings
from retrieval.composition import open_knowledge_base
from tests.bot.conftest import RunningBot
from tests.conftest import REPO
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.model_replies import cites, passage_number, user_text
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.fakes.serving import serving

KEY = "sk-fake-test-key-0003"
QUESTION = "How many U.S. troops are stationed in Iraq?"


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY).run_in_thread() as server:
        yield server


@pytest.fixture
async def llm_bot(
    bot_settings: Callable[..., Settings], api: FakeBotApi, openai_fake: FakeOpenAI
) -> AsyncIterator[RunningBot]:
    settings = bot_settings(
        OPENAI_API_KEY=KEY,
        OPENAI_BASE_URL=openai_fake.base_url,
        prompts_dir=REPO / "prompts",
        llm_timeout=30.0,  # the fake answers at once; a loaded machine may not
        llm_max_retries=0,
    )
    services = Services.create(settings, open_knowledge_base(settings))
    app = build_application(settings, services)
    async with serving(app, api):
        yield RunningBot(api, app, services)


async def test_a_private_answer_streams_as_drafts_then_arrives_checked(
    llm_bot: RunningBot, openai_fake: FakeOpenAI
) -> None:
    written = "The prime minister wants the 2,500 U.S. troops stationed in Iraq to go home."
    openai_fake.responder = cites("2,500", written)
    llm_bot.api.private_message(QUESTION)
    draft = await llm_bot.api.wait_for("sendMessageDraft")
    final = await llm_bot.api.wait_for("sendMessage")
    assert draft.params["text"].endswith(" \u2026")
    assert written.startswith(draft.params["text"].removesuffix(" \u2026"))  # text so far
    assert "2,500 U.S. troops stationed in Iraq to go home. [1]" in final.params["text"]
    assert "<blockquote expandable>This week Iraqi Prime Minister" in final.params["text"]
    assert openai_fake.requests_of("chat/completions")[0].stream


async def test_a_group_answer_is_previewed_by_editing_one_message(
    llm_bot: RunningBot, openai_fake: FakeOpenAI
) -> None:
    openai_fake.responder = cites("2,500", "About 2,500 U.S. troops are in Iraq.")
    asking = llm_bot.api.group_message(f"@BriefingBot {QUESTION}")
    preview = await llm_bot.api.wait_for("sendMessage")
    final = await llm_bot.api.wait_for("editMessageText")
    assert preview.params["reply_parameters"]["message_id"] == asking["message"]["message_id"]
    assert preview.result is not None
    assert final.params["message_id"] == preview.result["message_id"]
    assert "About 2,500 U.S. troops are in Iraq. [1]" in final.params["text"]
    assert "<b>Sources</b>" in final.params["text"]
    assert "reply_markup" in final.params
    assert llm_bot.api.calls_of("sendMessageDraft") == []  # drafts are for private chats


async def test_follow_ups_use_the_conversation_until_reset(
    llm_bot: RunningBot, openai_fake: FakeOpenAI
) -> None:
    def model(body: dict[str, object]) -> str:
        text = user_text(body)
        if "<<<CONVERSATION" in text:
            return "What did Justin Logan argue about U.S. forces?"
        return f"He said U.S. forces are sitting ducks [{passage_number(body, 'ducks')}]."

    openai_fake.responder = model
    llm_bot.api.private_message("Who is Justin Logan?")
    await llm_bot.api.wait_for("sendMessage")
    llm_bot.api.private_message("And what did he argue?")
    follow_up = await llm_bot.api.wait_for("sendMessage")
    assert "sitting ducks" in follow_up.params["text"]
    condense = [c for c in openai_fake.requests_of("chat/completions") if not c.stream]
    assert len(condense) == 1
    assert "Who is Justin Logan?" in user_text(condense[0].body)
    llm_bot.api.private_message("/reset")
    await llm_bot.api.wait_for("sendMessage")
    llm_bot.api.private_message("And what did he argue?")
    await llm_bot.api.wait_for("sendMessage")
    assert len([c for c in openai_fake.requests_of("chat/completions") if not c.stream]) == 1


async def test_a_failing_model_still_gets_the_user_a_cited_answer(
    llm_bot: RunningBot, openai_fake: FakeOpenAI
) -> None:
    openai_fake.script(Reply.server_error())
    llm_bot.api.private_message(QUESTION)
    final = await llm_bot.api.wait_for("sendMessage")
    assert "2,500 U.S. troops stationed there to go home. [1]" in final.params["text"]
    assert "<b>Sources</b>" in final.params["text"]


async def test_flood_control_on_the_final_edit_is_waited_out(
    llm_bot: RunningBot, openai_fake: FakeOpenAI
) -> None:
    openai_fake.responder = cites("2,500", "About 2,500 U.S. troops are in Iraq.")
    llm_bot.api.fail_next("editMessageText", 429, retry_after=1)
    llm_bot.api.group_message(f"@BriefingBot {QUESTION}")
    refused = await llm_bot.api.wait_for("editMessageText")
    final = await llm_bot.api.wait_for("editMessageText", timeout=60)
    assert refused.status == 429
    assert final.ok
    assert final.time - refused.time >= 1.0  # retry_after honoured
    assert "<b>Sources</b>" in final.params["text"]


async def test_typing_stays_on_while_a_slow_model_writes(
    llm_bot: RunningBot, openai_fake: FakeOpenAI
) -> None:
    openai_fake.responder = lambda body: Reply.stall(10.0, "Too late to matter. [1]")
    llm_bot.api.private_message(QUESTION)
    first = await llm_bot.api.wait_for("sendChatAction")
    again = await llm_bot.api.wait_for("sendChatAction", timeout=30)  # refreshed, not once
    assert first.params["action"] == again.params["action"] == "typing"
    await llm_bot.api.wait_for("sendMessage", timeout=60)  # the answer still comes


async def test_a_reply_to_an_answer_is_read_as_a_follow_up_even_without_a_pronoun(
    llm_bot: RunningBot, openai_fake: FakeOpenAI
) -> None:
    def model(body: dict[str, object]) -> str:
        if "<<<CONVERSATION" in user_text(body):
            return "What did Justin Logan argue about U.S. forces in the Middle East?"
        return f"He said U.S. forces are sitting ducks [{passage_number(body, 'ducks')}]."

    openai_fake.responder = model
    llm_bot.api.private_message("Who is Justin Logan?")
    await llm_bot.api.wait_for("sendMessage")

    def condensed() -> list[object]:
        return [c for c in openai_fake.requests_of("chat/completions") if not c.stream]

    llm_bot.api.private_message("Argued what about forces in the Middle East?")  # not a reply
    await llm_bot.api.wait_for("sendMessage")
    assert condensed() == []  # reads as a question of its own
    answer = llm_bot.api.bot_messages(1111)[-1]
    llm_bot.api.private_message(
        "Argued what about forces in the Middle East?", reply_to_message=answer
    )
    await llm_bot.api.wait_for("sendMessage")
    assert len(condensed()) == 1  # a reply to the bot is a follow-up
