"""An update python-telegram-bot cannot read is skipped with one log line; polling moves past
it and the rest of its batch is answered."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.bot.conftest import RunningBot

QUESTION = "Who is Justin Logan?"


def poll_update() -> dict[str, Any]:
    """A poll as Telegram sent it before Bot API 9.6: no allows_revoting, which PTB 22.8
    requires."""
    return {
        "poll": {
            "id": "5301",
            "question": "Which colour for the new bridge?",
            "options": [
                {"persistent_id": "r", "text": "Red", "voter_count": 1},
                {"persistent_id": "b", "text": "Blue", "voter_count": 0},
            ],
            "total_voter_count": 1,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
    }


def malformed_message() -> dict[str, Any]:
    """A message whose chat has no type."""
    return {"message": {"message_id": 9, "date": 0, "chat": {"id": 1111}, "text": QUESTION}}


async def test_an_unreadable_update_is_skipped_and_the_rest_answered(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.updates")
    api = bot.api
    api.push_update(poll_update())
    api.push_update(poll_update())
    api.private_message(QUESTION)
    api.push_update(malformed_message())
    answer = await api.wait_for("sendMessage")
    assert "Cato Institute" in answer.params["text"]
    await api.wait_confirmed()  # the next getUpdates passed them all, the unreadable last too
    offsets = [call.params.get("offset") for call in api.calls_of("getUpdates")]
    assert len(offsets) == len(set(offsets))  # no batch was fetched twice
    lines = [record.getMessage() for record in caplog.records if record.name == "bot.updates"]
    assert len(lines) == 2  # one per kind: the second poll is counted, not logged
    poll, message = lines
    assert "Skipped a poll update (id 1)" in poll
    assert "allows_revoting" in poll
    assert "Skipped a message update" in message
    assert "Which colour" not in poll  # names of fields, never what users wrote
    assert QUESTION not in message
