"""Who may use the bot and how fast, end to end: allowlists, question limits, the bound on one
chat's queue, and fair turns between chats, over the fake Bot API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from bot.access import TRACKED_ASKERS, QuestionLimits, Refusal
from bot.app import build_application
from bot.context import Services
from bot.render import GROUP_NOT_ALLOWED, NOT_ALLOWED, QUEUE_FULL
from config import Settings
from retrieval.composition import open_knowledge_base
from tests.bot.conftest import RunningBot
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.serving import serving

QUESTION = "How many U.S. troops are stationed in Iraq?"
ADMIN, FRIEND, STRANGER = 99, 11, 22


@contextlib.asynccontextmanager
async def running(
    bot_settings: Callable[..., Settings], api: FakeBotApi, **overrides: object
) -> AsyncIterator[RunningBot]:
    settings = bot_settings(**overrides)
    services = Services.create(settings, open_knowledge_base(settings))
    app = build_application(settings, services)
    async with serving(app, api):
        yield RunningBot(api, app, services)


def texts_to(api: FakeBotApi, chat_id: int) -> list[str]:
    return [
        str(call.params["text"])
        for call in api.calls_of("sendMessage")
        if call.ok and call.params["chat_id"] == chat_id
    ]


async def test_a_stranger_is_refused_once_and_allowed_users_and_admins_are_answered(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    async with running(bot_settings, api, allowed_user_ids=(FRIEND,), admin_ids=(ADMIN,)) as bot:
        for _ in range(3):
            bot.api.private_message(QUESTION, user_id=STRANGER)
        bot.api.private_message("/help", user_id=STRANGER)
        refusal = await bot.api.wait_for("sendMessage", lambda p: p["chat_id"] == STRANGER)
        for user in (FRIEND, ADMIN):
            bot.api.private_message(QUESTION, user_id=user)
            answer = await bot.api.wait_for("sendMessage", lambda p, u=user: p["chat_id"] == u)
            assert "2,500" in answer.params["text"]
        await bot.api.wait_confirmed()
        stranger_message = bot.api.private_message("/help", user_id=STRANGER)["message"]
        assert refusal.params["text"] == NOT_ALLOWED
        # A button under someone else's answer, pressed by the stranger: a refusal toast.
        bot.api.callback_query("v:abc:up", stranger_message, user_id=STRANGER)
        toast = await bot.api.wait_for("answerCallbackQuery")
        assert toast.params["text"] == NOT_ALLOWED
        assert texts_to(bot.api, STRANGER) == [NOT_ALLOWED]  # once, and /help was gated too


async def test_a_group_off_the_chat_list_is_told_once_and_left(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    allowed, other = -100500, -100777
    async with running(bot_settings, api, allowed_chat_ids=(allowed,)) as bot:
        bot.api.group_message(f"@BriefingBot {QUESTION}", chat_id=other, user_id=FRIEND)
        await bot.api.wait_for("leaveChat")
        # Every member of an allowed group is served, whoever they are.
        bot.api.group_message(f"@BriefingBot {QUESTION}", chat_id=allowed, user_id=STRANGER)
        answer = await bot.api.wait_for("sendMessage", lambda p: p["chat_id"] == allowed)
        assert "2,500" in answer.params["text"]
        assert bot.api.left_chats == {other}
        (notice,) = texts_to(bot.api, other)
        assert notice == GROUP_NOT_ALLOWED.format(chat_id=other)


async def test_a_user_over_the_limit_is_told_once_when_to_try_again(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    async with running(bot_settings, api, user_questions_per_minute=2) as bot:
        for _ in range(4):
            bot.api.private_message(QUESTION, user_id=FRIEND)
        bot.api.private_message("/help", user_id=FRIEND)  # answered after the four, in order
        await bot.api.wait_for("sendMessage", lambda p: "How to ask" in p["text"], timeout=60)
        answers, notice, help_text = (
            (texts := texts_to(bot.api, FRIEND))[:2],
            texts[2],
            texts[3:],
        )
        assert all("2,500" in text for text in answers)
        assert notice.startswith("You are asking faster than I can answer well.")
        seconds = int(notice.rsplit("in ", 1)[1].removesuffix(" s."))
        assert 1 <= seconds <= 60
        assert len(help_text) == 1  # the fourth question was dropped quietly
        # Another user is not slowed down by this one.
        bot.api.private_message(QUESTION, user_id=STRANGER)
        other = await bot.api.wait_for("sendMessage", lambda p: p["chat_id"] == STRANGER)
        assert "2,500" in other.params["text"]


async def test_a_busy_group_is_limited_as_a_whole(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    group = -100321
    async with running(
        bot_settings, api, chat_questions_per_minute=2, user_questions_per_minute=0
    ) as bot:
        for user in (1, 2, 3):
            bot.api.group_message(f"@BriefingBot {QUESTION}", chat_id=group, user_id=user)
        await bot.api.wait_for("sendMessage", lambda p: "faster" in p["text"], timeout=60)
        texts = texts_to(bot.api, group)
        assert [("2,500" in text) for text in texts] == [True, True, False]


async def test_one_flooding_chat_neither_queues_without_end_nor_delays_another(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    """200 messages from one user, then one from another: the other is answered among the
    first answers (it used to wait behind the whole flood), and the flood is cut at the
    per-chat bound with one notice instead of 200 answers."""
    flooder, other = 501, 700
    async with running(
        bot_settings,
        api,
        max_queued_per_chat=5,
        user_questions_per_minute=0,
        chat_questions_per_minute=0,
    ) as bot:
        for _ in range(200):
            bot.api.private_message(QUESTION, user_id=flooder)
        bot.api.private_message(QUESTION, user_id=other)
        answer = await bot.api.wait_for("sendMessage", lambda p: p["chat_id"] == other, timeout=60)
        await bot.api.wait_confirmed()
        before = [
            call
            for call in bot.api.calls_of("sendMessage")
            if call.params["chat_id"] == flooder and call.time < answer.time
        ]
        assert len(before) <= 6
        flood = texts_to(bot.api, flooder)
        assert flood.count(QUEUE_FULL) == 1
        assert len(flood) < 40


def test_question_limits_slide_with_time_and_tell_once_per_wait() -> None:
    now = [0.0]
    limits = QuestionLimits(per_user=2, per_chat=0, clock=lambda: now[0])
    assert limits.admit(1, 1) is None
    now[0] = 10.0
    assert limits.admit(1, 1) is None
    refusal = limits.admit(1, 1)
    assert refusal == Refusal(retry_after=50.0, tell=True)
    assert limits.admit(1, 1) == Refusal(retry_after=50.0, tell=False)  # told once
    assert limits.admit(2, 2) is None  # another user is free
    now[0] = 60.5  # the first question left the window
    assert limits.admit(1, 1) is None
    assert limits.admit(1, 1) == Refusal(retry_after=9.5, tell=True)


def test_question_limits_forget_idle_askers() -> None:
    now = [0.0]
    limits = QuestionLimits(per_user=1, per_chat=0, clock=lambda: now[0])
    for user in range(TRACKED_ASKERS + 1):
        assert limits.admit(user, user) is None
    now[0] = 61.0
    assert limits.admit(-1, -1) is None  # one more, after the window: the idle are swept
    assert limits.tracked == 1
