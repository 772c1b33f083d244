"""Briefings in chats: /whatsnew and scheduled briefings, end to end over the fake Bot API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from telegram.ext import Job

from bot.app import build_application
from bot.context import Services
from config import Settings
from retrieval.composition import open_knowledge_base
from tests.bot.conftest import RunningBot
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.serving import serving

GROUP, ADMIN, MEMBER = -100123, 1111, 3333
BRIDGE = "Bridge report\n\nThe Riverside bridge will cost 42 million euros and open in 2027.\n"


async def text_of_next_reply(api: FakeBotApi) -> str:
    return str((await api.wait_for("sendMessage", timeout=60)).params["text"])


def add_document(bot: RunningBot) -> None:
    (bot.services.settings.sources_dir / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
    bot.services.knowledge.ingest()


def subscription_jobs(bot: RunningBot) -> list[Job[object]]:
    assert bot.app.job_queue is not None
    return [job for job in bot.app.job_queue.jobs() if job.name.startswith("subscription-")]


async def test_whatsnew_lists_new_documents_once(bot: RunningBot) -> None:
    bot.services.briefing_guard._window = 0  # the burst guard is not under test here
    bot.api.group_message("/whatsnew@BriefingBot")
    first = await text_of_next_reply(bot.api)
    assert first.startswith("<b>Briefing: all documents</b>")  # never briefed here: everything
    add_document(bot)
    bot.api.group_message("/whatsnew@BriefingBot")
    header = await text_of_next_reply(bot.api)
    briefing = await text_of_next_reply(bot.api)
    assert "New or updated since the last briefing" in header
    assert "Bridge report" in header
    assert "42 million euros" in briefing
    assert "Israel" not in briefing  # only what changed
    bot.api.group_message("/whatsnew@BriefingBot")
    assert "Nothing new in the documents" in await text_of_next_reply(bot.api)


async def test_a_daily_subscription_fires_and_survives_a_restart(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    settings = bot_settings()
    services = Services.create(settings, open_knowledge_base(settings))
    first = build_application(settings, services)
    async with serving(first, api):
        bot = RunningBot(api, first, services)
        api.set_chat_administrators(GROUP, [ADMIN])
        api.group_message("/subscribe@BriefingBot daily 08:00 Justin Logan", user_id=MEMBER)
        assert "Only this group's admins" in await text_of_next_reply(api)
        assert subscription_jobs(bot) == []
        api.group_message("/timezone@BriefingBot Europe/Berlin", user_id=ADMIN)
        assert "Time zone set to Europe/Berlin" in await text_of_next_reply(api)
        api.group_message("/subscribe@BriefingBot daily 08:00 Justin Logan", user_id=ADMIN)
        subscribed = await text_of_next_reply(api)
        assert "Subscribed #1: daily at 08:00 on \u201cJustin Logan\u201d" in subscribed
        (job,) = subscription_jobs(bot)
        assert job.next_t is not None
        when = (job.next_t.hour, job.next_t.minute, str(job.next_t.tzinfo))
        assert when == (8, 0, "Europe/Berlin")
        await job.run(first)  # the job queue's clock reaching 08:00
        fired = await api.wait_for("sendMessage", timeout=60)
        assert fired.params["chat_id"] == GROUP
        assert "Briefing: Justin Logan" in fired.params["text"]

    # A new application over the same data dir schedules it again at start-up.
    services = Services.create(settings, open_knowledge_base(settings))
    restarted = build_application(settings, services)
    async with serving(restarted, api):
        bot = RunningBot(api, restarted, services)
        assert [job.name for job in subscription_jobs(bot)] == ["subscription-1"]
        api.group_message("/subscriptions@BriefingBot", user_id=MEMBER)
        listing = await text_of_next_reply(api)
        assert "#1: daily at 08:00" in listing
        assert "Europe/Berlin" in listing
        api.group_message("/unsubscribe@BriefingBot 1", user_id=ADMIN)
        assert "Unsubscribed #1" in await text_of_next_reply(api)
        assert [job for job in subscription_jobs(bot) if not job.removed] == []
        assert services.subscriptions.all(GROUP) == []


async def test_a_changes_subscription_posts_after_each_reload(
    bot_settings: Callable[..., Settings], api: FakeBotApi, sources: Path
) -> None:
    settings = bot_settings(admin_ids=(ADMIN,))
    services = Services.create(settings, open_knowledge_base(settings))
    async with serving(build_application(settings, services), api):
        api.set_chat_administrators(GROUP, [ADMIN])
        api.group_message("/subscribe@BriefingBot changes", user_id=ADMIN)
        assert "after every reload" in await text_of_next_reply(api)
        api.group_message("/brief@BriefingBot", user_id=ADMIN)  # the group has been briefed
        await text_of_next_reply(api)
        (sources / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
        api.private_message("/reload", user_id=ADMIN)
        posted = await api.wait_for("sendMessage", lambda p: p["chat_id"] == GROUP, timeout=60)
        assert "Bridge report" in posted.params["text"]


@pytest.mark.parametrize(
    "arguments", ["", "hourly 08:00", "daily", "weekly 08:00", "daily 25:00", "weekly xyz 08:00"]
)
async def test_a_malformed_subscription_gets_the_usage(bot: RunningBot, arguments: str) -> None:
    bot.api.private_message(f"/subscribe {arguments}")
    reply = await text_of_next_reply(bot.api)
    assert "/subscribe daily 08:00" in reply or "not a time of day" in reply
    assert bot.services.subscriptions.all() == []


async def test_whatsnew_after_an_upload_lists_the_new_document(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    settings = bot_settings(admin_ids=(ADMIN,))
    services = Services.create(settings, open_knowledge_base(settings))
    async with serving(build_application(settings, services), api):
        api.private_message("/brief", user_id=ADMIN)
        await text_of_next_reply(api)
        api.add_file("bridge-file", BRIDGE.encode())
        api.document_message("bridge-file", "bridge.txt", "text/plain", len(BRIDGE), user_id=ADMIN)
        await api.wait_for("sendMessage", lambda p: "Bridge report" in p["text"], timeout=30)
        api.private_message("/whatsnew", user_id=ADMIN)
        header = await api.wait_for("sendMessage", lambda p: "New or updated" in p["text"])
        assert "Bridge report" in header.params["text"]


async def test_weekly_subscriptions_run_on_their_weekday_and_unsubscribe_is_exact(
    bot: RunningBot,
) -> None:
    bot.api.private_message("/subscribe weekly mon 08:00 quiet")
    assert "weekly on Mon at 08:00 (quiet" in await text_of_next_reply(bot.api)
    bot.api.private_message("/subscribe weekly fri 18:30 Iran")
    await text_of_next_reply(bot.api)
    monday, friday = sorted(subscription_jobs(bot), key=lambda job: job.name)
    assert monday.next_t is not None
    assert friday.next_t is not None
    assert (monday.next_t.weekday(), monday.next_t.hour) == (0, 8)
    assert (friday.next_t.weekday(), friday.next_t.hour, friday.next_t.minute) == (4, 18, 30)
    bot.api.private_message("/unsubscribe daily")
    assert "Use /unsubscribe <number>" in await text_of_next_reply(bot.api)
    assert len(bot.services.subscriptions.all()) == 2
    bot.api.private_message("/unsubscribe 2")
    assert "Unsubscribed #2" in await text_of_next_reply(bot.api)
    assert [s.id for s in bot.services.subscriptions.all()] == [1]
    bot.api.private_message(f"/subscribe daily 08:00 {'x' * 300}")
    assert "under 200 characters" in await text_of_next_reply(bot.api)
