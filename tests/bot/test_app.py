"""End to end: updates enter the fake Bot API, the real Application answers over HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.app import build_application
from bot.context import Services
from bot.handlers import GENERIC_FAILURE
from bot.render import EDITED_HINT, NON_TEXT_HINT
from bot.streaming import SEND_ATTEMPTS
from cli.main import main as cli_main
from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.models import NOT_COVERED
from tests.bot.conftest import TOKEN, RunningBot
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.serving import serving

GROUP = -100123
QUESTION = "How many U.S. troops are stationed in Iraq?"


def keyboard_data(params: dict[str, object]) -> list[str]:
    markup = params["reply_markup"]
    assert isinstance(markup, dict)
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]


async def test_a_private_question_gets_a_cited_answer_with_buttons(bot: RunningBot) -> None:
    update = bot.api.private_message(QUESTION)
    action = await bot.api.wait_for("sendChatAction")
    sent = await bot.api.wait_for("sendMessage")
    assert action.params["action"] == "typing"
    assert action.time <= sent.time
    text = sent.params["text"]
    assert "troops stationed there to go home. [1]" in text
    assert "<b>Sources</b>" in text
    assert "<blockquote expandable>This week Iraqi Prime Minister" in text
    assert "2024-01-06" in text
    assert sent.params["parse_mode"] == "HTML"
    assert sent.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    data = keyboard_data(sent.params)
    assert data[0].startswith("q:")
    assert data[0].endswith(":0")
    assert [d.split(":")[2] for d in data[1:]] == ["up", "down"]


async def test_a_failing_typing_action_does_not_cost_the_answer(bot: RunningBot) -> None:
    """The typing action is best effort: the Bot API refusing it (a 400 here) must not stop
    the reply."""
    bot.api.fail_next("sendChatAction", 400)
    bot.api.private_message(QUESTION)
    refused = await bot.api.wait_for("sendChatAction")
    sent = await bot.api.wait_for("sendMessage")
    assert refused.status == 400
    assert "troops stationed there to go home. [1]" in sent.params["text"]


async def test_a_declined_question_names_the_closest_documents(bot: RunningBot) -> None:
    bot.api.private_message("What is the recipe for hummus?")
    sent = await bot.api.wait_for("sendMessage")
    assert NOT_COVERED in sent.params["text"]
    assert "As Israel and Hamas continue battling in Gaza" in sent.params["text"]


async def test_a_question_no_passage_answers_points_to_a_briefing(
    bot: RunningBot,
) -> None:
    bot.api.private_message("What is this article about?")
    sent = await bot.api.wait_for("sendMessage")
    assert sent.params["text"].endswith("For a cited overview of the documents: /brief")


async def test_a_misspelt_name_is_searched_as_the_documents_spell_it_and_said_so(
    bot: RunningBot,
) -> None:
    bot.api.private_message("Which think tank does Jusin Logan work for?")
    sent = await bot.api.wait_for("sendMessage")
    text = sent.params["text"]
    assert text.startswith(
        "<i>I searched for \u201cJustin\u201d (you wrote \u201cJusin\u201d).</i>\n"
    )
    assert "Cato Institute" in text


async def test_groups_answer_only_when_addressed(bot: RunningBot) -> None:
    bot.api.group_message(QUESTION)  # chatter: no mention, no reply to the bot
    asking = bot.api.group_message(f"@BriefingBot {QUESTION}")
    sent = await bot.api.wait_for("sendMessage")
    assert sent.params["reply_parameters"]["message_id"] == asking["message"]["message_id"]
    assert "2,500" in sent.params["text"]
    await asyncio.sleep(0.3)
    assert len(bot.api.calls_of("sendMessage")) == 1


async def test_a_mention_that_cuts_an_emoji_in_two_is_skipped(bot: RunningBot) -> None:
    """Offsets are UTF-16 code units: offset 1 falls inside the emoji's surrogate pair. PTB's
    parse_entities raised UnicodeDecodeError on it and the update failed (found by
    test_fuzz_updates.py)."""
    text = f"\U0001f600 @BriefingBot {QUESTION}"
    broken = {"type": "mention", "offset": 1, "length": 13}
    whole = {"type": "mention", "offset": 3, "length": 12}
    bot.api.group_message(text, entities=[broken, whole])
    sent = await bot.api.wait_for("sendMessage")
    assert "2,500" in sent.params["text"]


async def test_a_mention_in_a_forum_topic_is_answered_in_that_topic(bot: RunningBot) -> None:
    asking = bot.api.group_message(
        f"Hey @BriefingBot, {QUESTION}", is_forum=True, message_thread_id=77
    )
    sent = await bot.api.wait_for("sendMessage")
    assert sent.params["message_thread_id"] == 77
    assert sent.params["reply_parameters"]["message_id"] == asking["message"]["message_id"]


async def test_a_reply_to_the_bot_is_a_follow_up(bot: RunningBot) -> None:
    bot.api.group_message(f"/ask@BriefingBot {QUESTION}")
    first = await bot.api.wait_for("sendMessage")
    assert first.result is not None
    bot.api.group_message("Who is Justin Logan?", reply_to_message=first.result)
    second = await bot.api.wait_for("sendMessage")
    assert "Cato Institute" in second.params["text"]


async def test_the_quotes_button_toggles_by_editing_the_message(bot: RunningBot) -> None:
    bot.api.private_message(QUESTION)
    sent = await bot.api.wait_for("sendMessage")
    assert sent.result is not None
    hide = keyboard_data(sent.params)[0]
    bot.api.callback_query(hide, sent.result)
    edited = await bot.api.wait_for("editMessageText")
    await bot.api.wait_for("answerCallbackQuery")
    assert "blockquote" not in edited.params["text"]
    assert "troops stationed there to go home. [1]" in edited.params["text"]
    show = keyboard_data(edited.params)[0]
    assert show.endswith(":1")
    bot.api.callback_query(show, sent.result)
    again = await bot.api.wait_for("editMessageText")
    assert "<blockquote expandable>" in again.params["text"]


async def test_a_stale_button_is_answered_gracefully(bot: RunningBot) -> None:
    bot.api.private_message(QUESTION)
    sent = await bot.api.wait_for("sendMessage")
    assert sent.result is not None
    bot.api.callback_query("q:000000000000:0", sent.result)
    answered = await bot.api.wait_for("answerCallbackQuery")
    assert "no longer available" in answered.params["text"]
    bot.api.callback_query("from-an-old-version", sent.result)
    answered = await bot.api.wait_for("answerCallbackQuery")
    assert "no longer works" in answered.params["text"]
    assert bot.api.calls_of("editMessageText") == []


async def test_votes_are_stored_once_per_user_and_exported(
    bot: RunningBot, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.api.private_message(QUESTION)
    sent = await bot.api.wait_for("sendMessage")
    assert sent.result is not None
    _, up, down = keyboard_data(sent.params)
    bot.api.callback_query(up, sent.result, user_id=1111)
    await bot.api.wait_for("answerCallbackQuery")
    bot.api.callback_query(down, sent.result, user_id=1111)  # changes the vote
    bot.api.callback_query(up, sent.result, user_id=2222)
    await bot.api.wait_for("answerCallbackQuery")
    await bot.api.wait_for("answerCallbackQuery")
    settings = bot.services.settings
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BRIEFBOT_SOURCES_DIR", str(settings.sources_dir))
    assert cli_main(["feedback", "--json"]) == 0
    votes = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(vote["vote"] for vote in votes) == ["down", "up"]
    assert all(vote["question"] == QUESTION for vote in votes)
    assert all("2,500" in vote["citations"][0]["quote"] for vote in votes)


async def test_non_text_updates_get_a_hint_in_private_and_silence_elsewhere(
    bot: RunningBot,
) -> None:
    bot.api.sticker_message(chat_type="group", chat_id=GROUP)
    bot.api.channel_post("A channel post mentioning @BriefingBot")
    bot.api.sticker_message()
    hint = await bot.api.wait_for("sendMessage")
    assert hint.params["text"] == NON_TEXT_HINT
    bot.api.photo_message(caption="what is this?")
    assert (await bot.api.wait_for("sendMessage")).params["text"] == NON_TEXT_HINT
    asked = bot.api.private_message("Who is Justin Logan?")
    await bot.api.wait_for("sendMessage")
    bot.api.edited_message(asked, "Who is Justin Logan really?")
    assert (await bot.api.wait_for("sendMessage")).params["text"] == EDITED_HINT
    bot.api.private_message("/frobnicate")
    assert "How to ask" in (await bot.api.wait_for("sendMessage")).params["text"]
    bot.api.group_message("/start@OtherBot")  # another bot's command: not ours to answer
    bot.api.group_message("/frobnicate@BriefingBot")
    assert (await bot.api.wait_for("sendMessage")).params["chat_id"] == GROUP
    await asyncio.sleep(0.3)
    to_group = [
        call for call in bot.api.calls_of("sendMessage") if call.params["chat_id"] == GROUP
    ]
    assert len(to_group) == 1  # only the help for /frobnicate@BriefingBot


async def test_start_help_and_sources(bot: RunningBot) -> None:
    bot.api.private_message("/start")
    welcome = (await bot.api.wait_for("sendMessage")).params["text"]
    assert "As Israel and Hamas continue battling in Gaza" in welcome
    assert "What do the documents say about" in welcome
    bot.api.private_message("/sources")
    listing = (await bot.api.wait_for("sendMessage")).params["text"]
    assert "2024-01-06" in listing
    assert "U.S. Forces in Iraq" in listing
    bot.api.private_message("/help")
    assert "How to ask" in (await bot.api.wait_for("sendMessage")).params["text"]
    commands = bot.api.calls_of("setMyCommands")[0].params["commands"]
    assert [command["command"] for command in commands] == [
        "ask",
        "brief",
        "whatsnew",
        "subscribe",
        "sources",
        "reset",
        "help",
    ]


async def test_empty_and_huge_questions_get_a_clear_reply(bot: RunningBot) -> None:
    bot.api.private_message("/ask")
    assert "empty" in (await bot.api.wait_for("sendMessage")).params["text"]
    bot.api.private_message("why " * 1500)
    assert "characters long" in (await bot.api.wait_for("sendMessage")).params["text"]


async def test_a_long_answer_is_split_into_valid_messages(
    bot_settings: Callable[..., Settings], api: FakeBotApi, tmp_path: Path, sources: Path
) -> None:
    clauses = " ".join(f"the committee reviewed item {i} and approved it," for i in range(160))
    sentence = f"The long report says that {clauses} and the final total was 98765 euros."
    (sources / "long.txt").write_text(f"Long report\n\n{sentence}\n", encoding="utf-8")
    settings = bot_settings(chunk_chars=8000)
    services = Services.create(settings, open_knowledge_base(settings))
    async with serving(build_application(settings, services), api):
        api.private_message("What was the final total in the long report?")
        parts = [await api.wait_for("sendMessage", timeout=60)]
        while "reply_markup" not in parts[-1].params and len(parts) < 10:
            parts.append(await api.wait_for("sendMessage"))
    assert len(parts) >= 3
    assert all(part.ok for part in parts)  # the fake checks the length and the HTML
    text = " ".join(part.params["text"] for part in parts)
    assert len(text) > 10_000
    assert "98765 euros. [1]" in text
    assert "reply_markup" in parts[-1].params
    assert all("reply_markup" not in part.params for part in parts[:-1])


async def test_a_failed_send_is_logged_without_the_token_and_the_user_is_told(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("", "httpx", "telegram"):  # everything, whatever other tests configured
        caplog.set_level(logging.DEBUG, logger=name)
    # The Bot API fails every try of the answer: the error handler apologises.
    bot.api.fail_next("sendMessage", 500, description="Internal Server Error", times=SEND_ATTEMPTS)
    bot.api.private_message(QUESTION)
    await bot.api.wait_for("sendMessage", lambda p: p["text"] == GENERIC_FAILURE)
    assert any(r.levelno == logging.ERROR and "update" in r.getMessage() for r in caplog.records)
    assert any("Traceback" in (r.exc_text or "") for r in caplog.records)
    logged = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "/bot[REDACTED]/sendMessage" in logged  # request URLs were logged, redacted...
    assert TOKEN not in logged  # ...so the token never shows
    assert TOKEN.split(":")[1] not in logged


@pytest.mark.parametrize(
    ("status", "times"),
    [
        (500, 1),  # Internal Server Error
        (502, 2),  # Bad Gateway, twice
        (429, 4),  # flood control once more than the rate limiter retries by itself
    ],
)
async def test_an_answer_survives_transient_bot_api_failures_and_arrives_once(
    bot: RunningBot, status: int, times: int
) -> None:
    bot.api.fail_next("sendMessage", status, retry_after=1, times=times)
    bot.api.private_message(QUESTION)
    tries = [
        await bot.api.wait_for("sendMessage", lambda p: "2,500" in p["text"], timeout=60)
        for _ in range(times + 1)
    ]
    assert [t.ok for t in tries] == [False] * times + [True]
    sent = [c for c in bot.api.calls_of("sendMessage") if c.ok]
    assert len(sent) == 1  # delivered once, not once per try
    assert GENERIC_FAILURE not in [c.params["text"] for c in bot.api.calls_of("sendMessage")]


async def test_an_answer_is_sent_when_the_answer_log_cannot_be_written(
    bot: RunningBot,
) -> None:
    # A full disk or a broken store: the computed answer still reaches the user.
    with bot.services.state.database.transaction() as connection:
        connection.execute(text("DROP TABLE votes"))
        connection.execute(text("DROP TABLE answers"))
    bot.api.private_message(QUESTION)
    answered = await bot.api.wait_for("sendMessage", lambda p: "2,500" in p["text"])
    assert "reply_markup" not in answered.params  # no vote buttons without a logged answer


async def test_an_admin_is_told_why_a_question_failed(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    settings = bot_settings(admin_ids="1111")
    services = Services.create(settings, open_knowledge_base(settings))
    async with serving(build_application(settings, services), api):
        api.fail_next("sendMessage", 500, times=SEND_ATTEMPTS)
        api.private_message(QUESTION)  # from user 1111, the admin
        apology = await api.wait_for("sendMessage", lambda p: GENERIC_FAILURE in p["text"])
    assert "For admins: NetworkError" in apology.params["text"]
    assert TOKEN not in apology.params["text"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_refuses_requests_without_the_secret(
    bot_settings: Callable[..., Settings], api: FakeBotApi, tmp_path: Path
) -> None:
    settings = bot_settings()
    services = Services.create(settings, open_knowledge_base(settings))
    app = build_application(settings, services)
    port = _free_port()
    update = {
        "update_id": 500,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 1111, "type": "private", "first_name": "Ann"},
            "from": {"id": 1111, "is_bot": False, "first_name": "Ann"},
            "text": "Who is Justin Logan?",
        },
    }
    webhook = {
        "listen": "127.0.0.1",
        "port": port,
        "url_path": "telegram",
        "webhook_url": f"http://127.0.0.1:{port}/telegram",
        "secret_token": "s3cret-value",
    }
    async with serving(app, api, webhook):
        assert api.webhook_secret_token == "s3cret-value"
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{port}/telegram"
            refused = await client.post(url, json=update)
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            accepted = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"}
            )
        assert refused.status_code == 403
        assert wrong.status_code == 403
        assert accepted.status_code == 200
        sent = await api.wait_for("sendMessage")
        assert "Cato Institute" in sent.params["text"]
        assert len(api.calls_of("sendMessage")) == 1  # the refused ones did nothing


async def test_one_chat_is_answered_in_order_while_chats_run_in_parallel(bot: RunningBot) -> None:
    first = bot.api.private_message(QUESTION, user_id=501)
    second = bot.api.private_message("Who is Justin Logan?", user_id=501)
    others = [bot.api.private_message(QUESTION, user_id=600 + i) for i in range(8)]
    replies = [await bot.api.wait_for("sendMessage", timeout=60) for _ in range(10)]
    mine = [
        r.params["reply_parameters"]["message_id"] for r in replies if r.params["chat_id"] == 501
    ]
    assert mine == [first["message"]["message_id"], second["message"]["message_id"]]
    assert {r.params["chat_id"] for r in replies} == {501} | {600 + i for i in range(8)}
    assert len(others) == 8


async def test_a_burst_of_brief_commands_in_a_group_gets_one_briefing(bot: RunningBot) -> None:
    for _ in range(3):
        bot.api.group_message("/brief@BriefingBot")
    sent = await bot.api.wait_for("sendMessage")
    text = sent.params["text"]
    assert text.startswith("<b>Briefing: all documents</b>")
    for heading in ("Bottom line", "Key points", "Positions", "Unclear or disputed", "Sources"):
        assert f"<b>{heading}</b>" in text
    bot.api.group_message("/brief@BriefingBot Justin Logan")  # another topic is another briefing
    topic = await bot.api.wait_for("sendMessage")
    assert "Briefing: Justin Logan" in topic.params["text"]
    assert len(bot.api.calls_of("sendMessage")) == 2
    bot.api.group_message("/brief@BriefingBot Jusin Logan")
    misspelt = (await bot.api.wait_for("sendMessage")).params["text"]
    assert misspelt.startswith("<b>Briefing: Jusin Logan</b>")
    assert "<i>I searched for \u201cJustin\u201d (you wrote \u201cJusin\u201d).</i>" in misspelt
    assert "Cato Institute" in misspelt


async def test_the_start_is_logged_in_one_line_without_secrets(
    bot_settings: Callable[..., Settings], api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.app")
    settings = bot_settings(admin_ids=(1, 2))
    services = Services.create(settings, open_knowledge_base(settings))
    async with serving(build_application(settings, services), api):
        (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("serving")]
    assert "serving @BriefingBot: extractive answers from index v1 (documents 1," in line
    assert "2 admins, long polling" in line
    assert TOKEN not in caplog.text
