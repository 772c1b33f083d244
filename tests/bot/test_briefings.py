"""Briefings in chats: /whatsnew and scheduled briefings, end to end over the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_application
from bot.context import BriefApplication, Services
from config import Settings
from retrieval.briefing.schedule import LEASE_SECONDS, BriefingSchedule
from retrieval.composition import open_knowledge_base
from retrieval.state.leases import Leases
from tests.bot.conftest import RunningBot
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.postgres import PostgresServer
from tests.fakes.serving import running_unpolled, serving

GROUP, ADMIN, MEMBER = -100123, 1111, 3333
BRIDGE = "Bridge report\n\nThe Riverside bridge will cost 42 million euros and open in 2027.\n"


async def text_of_next_reply(api: FakeBotApi) -> str:
    return str((await api.wait_for("sendMessage", timeout=60)).params["text"])


def add_document(bot: RunningBot) -> None:
    (bot.services.settings.sources_dir / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
    bot.services.knowledge.ingest()


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


def on_a_clock(services: Services, now: list[float], replica: str) -> Services:
    """The services with a scheduler whose clock the test sets (and a replica name)."""
    schedule = BriefingSchedule(
        services.state.subscriptions,
        Leases(services.state.database, lambda: now[0]),
        replica,
        lambda: now[0],
    )
    return replace(services, state=replace(services.state, schedule=schedule))


def manual_ticks(app: BriefApplication) -> Callable[[], Awaitable[None]]:
    """The scheduler's tick, taken off the job queue's own timer so the test runs it."""
    assert app.job_queue is not None
    (job,) = app.job_queue.get_jobs_by_name("scheduled-briefings")
    job.schedule_removal()

    async def tick() -> None:
        await job.run(app)

    return tick


def next_eight_in_berlin() -> datetime:
    now = datetime.now(ZoneInfo("Europe/Berlin"))
    eight = now.replace(hour=8, minute=0, second=0, microsecond=0)
    return (eight if eight > now else eight + timedelta(days=1)).astimezone(UTC)


def briefings_to(api: FakeBotApi, chat_id: int) -> list[str]:
    return [
        str(c.params["text"])
        for c in api.calls_of("sendMessage")
        if c.ok and c.params["chat_id"] == chat_id and "Briefing:" in str(c.params["text"])
    ]


async def test_a_daily_subscription_fires_once_and_survives_a_restart(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    settings = bot_settings()
    now = [time.time()]
    services = on_a_clock(Services.create(settings, open_knowledge_base(settings)), now, "a")
    first = build_application(settings, services)
    async with serving(first, api):
        tick = manual_ticks(first)
        api.set_chat_administrators(GROUP, [ADMIN])
        api.group_message("/subscribe@BriefingBot daily 08:00 Justin Logan", user_id=MEMBER)
        assert "Only this group's admins" in await text_of_next_reply(api)
        assert services.state.subscriptions.all() == []
        api.group_message("/timezone@BriefingBot Europe/Berlin", user_id=ADMIN)
        assert "Time zone set to Europe/Berlin" in await text_of_next_reply(api)
        api.group_message("/subscribe@BriefingBot daily 08:00 Justin Logan", user_id=ADMIN)
        subscribed = await text_of_next_reply(api)
        assert "Subscribed #1: daily at 08:00 on \u201cJustin Logan\u201d" in subscribed
        await tick()
        assert briefings_to(api, GROUP) == []  # not 08:00 yet
        now[0] = (next_eight_in_berlin() + timedelta(seconds=5)).timestamp()
        await tick()
        await tick()
        fired = await api.wait_for("sendMessage", lambda p: "Briefing:" in p["text"])
        assert "Briefing: Justin Logan" in fired.params["text"]
        assert len(briefings_to(api, GROUP)) == 1  # once

    # A new application over the same state knows the subscription, and what it sent.
    services = on_a_clock(Services.create(settings, open_knowledge_base(settings)), now, "b")
    restarted = build_application(settings, services)
    async with serving(restarted, api):
        await manual_ticks(restarted)()
        assert len(briefings_to(api, GROUP)) == 1
        api.group_message("/subscriptions@BriefingBot", user_id=MEMBER)
        listing = await text_of_next_reply(api)
        assert "#1: daily at 08:00" in listing
        assert "Europe/Berlin" in listing
        api.group_message("/unsubscribe@BriefingBot 1", user_id=ADMIN)
        assert "Unsubscribed #1" in await text_of_next_reply(api)
        assert services.state.subscriptions.all(GROUP) == []


async def test_two_replicas_post_a_scheduled_briefing_once_and_fail_over(
    bot_settings: Callable[..., Settings],
    api: FakeBotApi,
    postgres: PostgresServer,
    tmp_path: Path,
) -> None:
    database_url = postgres.new_database()
    now = [time.time()]
    replicas = []
    for name in ("a", "b"):
        settings = bot_settings(database_url=database_url, data_dir=tmp_path / name)
        services = on_a_clock(Services.create(settings, open_knowledge_base(settings)), now, name)
        replicas.append((build_application(settings, services), services))
    (first, first_services), (second, _) = replicas
    # One polls; the other gets no updates (two pollers with one token get a 409 Conflict).
    async with serving(first, api), running_unpolled(second):
        ticks = [manual_ticks(first), manual_ticks(second)]
        await asyncio.to_thread(
            first_services.state.subscriptions.set_timezone, GROUP, "Europe/Berlin"
        )
        await asyncio.to_thread(
            first_services.state.subscriptions.add,
            GROUP,
            0,
            "daily",
            "08:00",
            None,
            None,
            False,
            ADMIN,
        )
        now[0] = (next_eight_in_berlin() + timedelta(seconds=5)).timestamp()
        for tick in ticks + ticks:
            await tick()
        assert len(briefings_to(api, GROUP)) == 1
        # Replica a dies (its ticks stop; its lease is never released). The next day, once
        # the lease has expired, replica b delivers, once.
        now[0] += 24 * 3600 + LEASE_SECONDS + 1
        await ticks[1]()
        await ticks[1]()
        posts = [c.params["text"] for c in api.calls_of("sendMessage") if c.ok]
        assert len(posts) == 2
        assert "Nothing new in the documents" in posts[1]  # the daily what's-new, from b


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
    assert bot.services.state.subscriptions.all() == []


async def test_a_subscription_to_a_topic_without_words_is_refused(bot: RunningBot) -> None:
    bot.api.private_message("/subscribe daily 08:00 \U0001f642")
    assert "in words" in await text_of_next_reply(bot.api)
    assert bot.services.state.subscriptions.all() == []


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


async def test_weekly_subscriptions_are_listed_by_weekday_and_unsubscribe_is_exact(
    bot: RunningBot,
) -> None:
    bot.api.private_message("/subscribe weekly mon 08:00 quiet")
    assert "weekly on Mon at 08:00 (quiet" in await text_of_next_reply(bot.api)
    bot.api.private_message("/subscribe weekly fri 18:30 Iran")
    await text_of_next_reply(bot.api)
    monday, friday = bot.services.state.subscriptions.all()
    assert (monday.weekday, monday.time, monday.quiet) == (0, "08:00", True)
    assert (friday.weekday, friday.time, friday.topic) == (4, "18:30", "Iran")
    bot.api.private_message("/unsubscribe daily")
    assert "Use /unsubscribe <number>" in await text_of_next_reply(bot.api)
    assert len(bot.services.state.subscriptions.all()) == 2
    bot.api.private_message("/unsubscribe 2")
    assert "Unsubscribed #2" in await text_of_next_reply(bot.api)
    assert [s.id for s in bot.services.state.subscriptions.all()] == [1]
    bot.api.private_message(f"/subscribe daily 08:00 {'x' * 300}")
    assert "under 200 characters" in await text_of_next_reply(bot.api)
