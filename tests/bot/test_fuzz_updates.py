"""Property test: messages of any shape Telegram could send (odd or out-of-range entity
offsets, emoji before a mention, right-to-left text, commands with junk, replies, forum
topics, missing sender) never crash a handler: the error handler is never reached."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.handlers import GENERIC_FAILURE
from tests.bot.conftest import RunningBot

WORDS = st.sampled_from(
    [
        "@BriefingBot",
        "/ask",
        "/start@BriefingBot",
        "/brief",
        "/remove",
        "/help",
        "troops",
        "Iraq?",
        "\U0001f600",
        "\u05e9\u05dc\u05d5\u05dd",
        "\u200f",
        "@someone",
        "",
        "  ",
        "?",
    ]
)
TEXT = st.lists(st.one_of(WORDS, st.text(max_size=12)), min_size=1, max_size=12).map(" ".join)
ENTITY = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["mention", "bot_command", "bold", "url", "text_mention"]),
        "offset": st.integers(-3, 80),
        "length": st.integers(0, 40),
    }
)


def message(draw: Any) -> dict[str, Any]:
    chat_type = draw(st.sampled_from(["private", "group", "supergroup"]))
    chat_id = 1111 if chat_type == "private" else -1001
    body: dict[str, Any] = {
        "message_id": draw(st.integers(1, 10**6)),
        "date": 0,
        "chat": {"id": chat_id, "type": chat_type, "title": "G", "first_name": "Ann"},
        "text": draw(TEXT),
    }
    if draw(st.booleans()):
        body["from"] = {"id": 1111, "is_bot": False, "first_name": "Ann"}
    if draw(st.booleans()):
        body["entities"] = draw(st.lists(ENTITY, max_size=4))
    if draw(st.booleans()):
        body["reply_to_message"] = {
            "message_id": 1,
            "date": 0,
            "chat": body["chat"],
            "from": {"id": 4242, "is_bot": True, "first_name": "Bot", "username": "BriefingBot"},
            "text": "an earlier answer",
        }
    if chat_type == "supergroup" and draw(st.booleans()):
        body["is_topic_message"] = True
        body["message_thread_id"] = draw(st.integers(1, 100))
    return body


@st.composite
def updates(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["message", "edited_message", "channel_post"]))
    return {"update_id": draw(st.integers(1, 10**9)), kind: message(draw)}


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=updates())
async def test_no_message_shape_crashes_a_handler(
    bot: RunningBot, caplog: pytest.LogCaptureFixture, data: dict[str, Any]
) -> None:
    update = Update.de_json(data, bot.app.bot)
    with caplog.at_level(logging.ERROR):
        await bot.app.process_update(update)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], errors[0].getMessage() if errors else ""
    assert all(c.params.get("text") != GENERIC_FAILURE for c in bot.api.calls_of("sendMessage"))
