"""Briefings in chats: /brief on demand, /whatsnew, and scheduled briefings (daily, weekly, or
after every reload), with a time zone per chat. Subscriptions live in the state database;
one replica at a time delivers the scheduled ones (`deliver_due`)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from html import escape
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Bot, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import Forbidden

from bot.chats import topic_thread
from bot.context import BriefContext, Services
from bot.messages import (
    LANGUAGE_NAMES,
    Messages,
    chat_messages,
    pick_language,
    scheduled_messages,
)
from bot.render import pack, render_briefing
from retrieval.errors import QuestionError
from retrieval.state.database import DatabaseUnavailableError
from retrieval.state.subscriptions import WEEKDAYS, Kind, Subscription

log = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 200
SHOWN_TOPIC_CHARS = 60  # a longer topic is cut in listings
# What /language takes: a catalog language, or "auto" for each user's own.
LANGUAGE_CHOICES = "|".join([*LANGUAGE_NAMES, "auto"])
_SUBSCRIBE = re.compile(
    r"^(?P<kind>daily|weekly|changes)"
    r"(?:\s+(?P<day>" + "|".join(WEEKDAYS) + r"))?"
    r"(?:\s+(?P<time>\d{1,2}:\d{2}))?"
    r"(?:\s+(?P<topic>.+))?$",
    re.IGNORECASE,
)


async def _send_parts(bot: Bot, chat_id: int, thread_id: int, parts: list[str]) -> None:
    for part in parts:
        await bot.send_message(
            chat_id, part, parse_mode=ParseMode.HTML, message_thread_id=thread_id or None
        )


def describe(subscription: Subscription, messages: Messages) -> str:
    """One subscription as /subscriptions lists it (Subscription.describe() is English only)."""
    if subscription.kind == "daily":
        when = messages.get("sub_daily", time=subscription.time)
    elif subscription.kind == "weekly":
        day = messages.get(f"day_{WEEKDAYS[subscription.weekday or 0]}")
        when = messages.get("sub_weekly", day=day, time=subscription.time)
    else:
        when = messages.get("sub_changes")
    topic = subscription.topic
    if topic and len(topic) > SHOWN_TOPIC_CHARS:
        topic = topic[: SHOWN_TOPIC_CHARS - 1] + "\u2026"
    about = messages.get("sub_topic", topic=topic) if topic else ""
    quiet = messages.get("sub_quiet") if subscription.quiet else ""
    return f"#{subscription.id}: {when}{about}{quiet}"


async def deliver_briefing(
    bot: Bot,
    services: Services,
    chat_id: int,
    thread_id: int,
    topic: str | None,
    messages: Messages,
) -> None:
    manifest = await asyncio.to_thread(services.knowledge.manifest)  # what the briefing covers
    briefing = await asyncio.to_thread(services.knowledge.brief, topic)
    await _send_parts(bot, chat_id, thread_id, render_briefing(briefing, messages))
    await asyncio.to_thread(
        services.state.subscriptions.record_briefing,
        chat_id,
        thread_id,
        topic,
        manifest.content_hashes(),
    )


async def deliver_whatsnew(
    bot: Bot,
    services: Services,
    chat_id: int,
    thread_id: int,
    topic: str | None,
    quiet: bool,
    messages: Messages,
) -> None:
    """What changed since the last briefing on this topic here: new or updated documents and
    their key points. Never briefed here: a full briefing."""
    last = await asyncio.to_thread(services.state.subscriptions.briefed, chat_id, thread_id, topic)
    if last is None:
        await deliver_briefing(bot, services, chat_id, thread_id, topic, messages)
        return
    seen, when = last
    news = await asyncio.to_thread(services.knowledge.whats_new, seen, topic)
    if news.briefing is None:
        if not quiet:
            note = messages.get("nothing_new", when=when[:16])
            await _send_parts(bot, chat_id, thread_id, [note])
        return
    header = pack(
        [messages.get("new_since_last")]
        + [f"\u2022 {escape(title, quote=False)}" for title in news.changed_titles],
        separator="\n",
    )
    await _send_parts(
        bot, chat_id, thread_id, [*header, *render_briefing(news.briefing, messages)]
    )
    await asyncio.to_thread(
        services.state.subscriptions.record_briefing, chat_id, thread_id, topic, news.documents
    )


async def _guarded(
    message: Message,
    context: BriefContext,
    subject: str | None,
    texts: Messages,
    deliver: Callable[[], Awaitable[None]],
) -> None:
    """Run one delivery unless the same one is running or was just delivered here."""
    guard = context.services.briefing_guard
    key = guard.key(message.chat_id, topic_thread(message), subject)
    if not guard.begin(key):
        return
    delivered = False
    try:
        await message.reply_chat_action(ChatAction.TYPING)
        await deliver()
        delivered = True
    except QuestionError as error:  # a topic that is too long
        await message.reply_text(texts.get(f"question_{error.reason}", **error.values))
    finally:
        guard.end(key, delivered)


async def brief(update: Update, context: BriefContext) -> None:
    """/brief [topic]: a structured, cited briefing. A burst of the same request gets one."""
    message = update.effective_message
    if message is None:
        return
    topic = " ".join(context.args or []) or None
    thread = topic_thread(message)
    texts = await chat_messages(update, context)
    await _guarded(
        message,
        context,
        topic,
        texts,
        lambda: deliver_briefing(
            context.bot, context.services, message.chat_id, thread, topic, texts
        ),
    )


async def whatsnew(update: Update, context: BriefContext) -> None:
    """/whatsnew: what changed in the documents since the last briefing here."""
    message = update.effective_message
    if message is None:
        return
    thread = topic_thread(message)
    texts = await chat_messages(update, context)
    await _guarded(
        message,
        context,
        "\x00whatsnew",
        texts,
        lambda: deliver_whatsnew(
            context.bot, context.services, message.chat_id, thread, None, False, texts
        ),
    )


async def _may_manage(update: Update, context: BriefContext) -> bool:
    """Bot admins anywhere; in groups the chat's admins (as Telegram says); in private, anyone."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return False
    if chat.type == ChatType.PRIVATE or user.id in context.services.settings.admin_ids:
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # an anonymous admin writes as the group
    administrators = await context.bot.get_chat_administrators(chat.id)
    return any(member.user.id == user.id for member in administrators)


async def subscribe(update: Update, context: BriefContext) -> None:
    """/subscribe daily 08:00 [topic] | weekly mon 08:00 [topic] | changes [quiet]."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    texts = await chat_messages(update, context)
    if not await _may_manage(update, context):
        await message.reply_text(texts.get("only_admins_subscribe"))
        return
    words = context.args or []
    quiet = any(word.lower() == "quiet" for word in words)
    match = _SUBSCRIBE.match(" ".join(w for w in words if w.lower() != "quiet").strip())
    kind = match.group("kind").lower() if match else ""
    time_text = match.group("time") if match else None
    if (
        not match
        or (kind != "changes" and not time_text)
        or (kind == "weekly") != bool(match.group("day"))
    ):
        await message.reply_text(texts.get("subscribe_help"))
        return
    hours, minutes = (int(part) for part in (time_text or "0:0").split(":"))
    if hours > 23 or minutes > 59:
        await message.reply_text(texts.get("not_a_time"))
        return
    day = match.group("day")
    topic = (match.group("topic") or "").strip() or None
    if topic is not None:
        # A topic the briefing would refuse (emoji alone) must not fail at every delivery.
        try:
            topic = context.services.knowledge.check_question(topic)
        except QuestionError as error:
            await message.reply_text(texts.get(f"question_{error.reason}", **error.values))
            return
        if len(topic) > MAX_TOPIC_CHARS:
            await message.reply_text(texts.get("topic_too_long", limit=MAX_TOPIC_CHARS))
            return
    subscription = await asyncio.to_thread(
        context.services.state.subscriptions.add,
        message.chat_id,
        topic_thread(message),
        cast(Kind, kind),
        f"{hours:02}:{minutes:02}" if kind != "changes" else "",
        WEEKDAYS.index(day.lower()) if day else None,
        topic,
        quiet,
        update.effective_user.id,
    )
    zone = await asyncio.to_thread(context.services.state.subscriptions.timezone, message.chat_id)
    await message.reply_text(
        texts.get("subscribed", what=describe(subscription, texts), zone=zone)
    )


async def unsubscribe(update: Update, context: BriefContext) -> None:
    """/unsubscribe [number]: one subscription of this chat, or all of them."""
    message = update.effective_message
    if message is None:
        return
    texts = await chat_messages(update, context)
    if not await _may_manage(update, context):
        await message.reply_text(texts.get("only_admins_unsubscribe"))
        return
    argument = " ".join(context.args or []).strip().lower()
    number = re.fullmatch(r"#?([0-9]+)", argument, re.ASCII)
    if argument not in ("", "all") and number is None:
        await message.reply_text(texts.get("unsubscribe_usage"))
        return
    wanted = int(number.group(1)) if number else None
    removed = await asyncio.to_thread(
        context.services.state.subscriptions.remove, message.chat_id, wanted
    )
    await message.reply_text(
        texts.get("unsubscribed", numbers=", ".join(f"#{i}" for i in removed))
        if removed
        else texts.get("no_such_subscription")
    )


async def subscriptions(update: Update, context: BriefContext) -> None:
    """/subscriptions: this chat's scheduled briefings."""
    message = update.effective_message
    if message is None:
        return
    store = context.services.state.subscriptions
    found = await asyncio.to_thread(store.all, message.chat_id)
    zone = await asyncio.to_thread(store.timezone, message.chat_id)
    texts = await chat_messages(update, context)
    lines = [describe(s, texts) for s in found] or [
        f"{texts.get('no_subscriptions')} {texts.get('subscribe_help')}"
    ]
    await message.reply_text(
        texts.get("subscriptions_heading", zone=zone) + "\n" + "\n".join(lines)
    )


async def timezone(update: Update, context: BriefContext) -> None:
    """/timezone Europe/Berlin: the zone of this chat's subscription times."""
    message = update.effective_message
    if message is None:
        return
    store = context.services.state.subscriptions
    name = " ".join(context.args or []).strip()
    texts = await chat_messages(update, context)
    if not name:
        zone = await asyncio.to_thread(store.timezone, message.chat_id)
        await message.reply_text(texts.get("timezone_is", zone=zone))
        return
    if not await _may_manage(update, context):
        await message.reply_text(texts.get("only_admins_timezone"))
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        await message.reply_text(texts.get("unknown_timezone", name=repr(name)))
        return
    await asyncio.to_thread(store.set_timezone, message.chat_id, name)
    await message.reply_text(texts.get("timezone_set", name=name))


async def language(update: Update, context: BriefContext) -> None:
    """/language: the language of this chat's replies; /language de|ru|en sets it for
    everyone here, /language auto goes back to each user's Telegram language."""
    message = update.effective_message
    if message is None:
        return
    store = context.services.state.subscriptions
    choice = " ".join(context.args or []).strip().lower()
    user_code = update.effective_user.language_code if update.effective_user else None
    chosen = await asyncio.to_thread(store.language, message.chat_id)
    texts = Messages(pick_language(chosen, user_code))
    if not choice:
        name = LANGUAGE_NAMES[texts.language]
        current = name if chosen else texts.get("language_auto", language=name)
        await message.reply_text(
            texts.get("language_current", language=current, choices=LANGUAGE_CHOICES)
        )
        return
    if choice != "auto" and choice not in LANGUAGE_NAMES:
        await message.reply_text(
            texts.get("language_unknown", code=repr(choice[:20]), choices=LANGUAGE_CHOICES)
        )
        return
    if not await _may_manage(update, context):
        await message.reply_text(texts.get("only_admins_language"))
        return
    if choice == "auto":
        await asyncio.to_thread(store.set_language, message.chat_id, None)
        await message.reply_text(Messages(pick_language(None, user_code)).get("language_cleared"))
        return
    await asyncio.to_thread(store.set_language, message.chat_id, choice)
    await message.reply_text(Messages(choice).get("language_set"))


async def deliver_due(context: BriefContext) -> None:
    """The scheduler's tick, on every replica: deliver what is due, if this replica holds the
    scheduler lease (retrieval/briefing/schedule.py). A failed delivery is logged and not
    retried: part of it may have been posted."""
    services = context.services
    schedule = services.state.schedule
    try:
        runs = await asyncio.to_thread(schedule.due_runs)
    except DatabaseUnavailableError as error:
        log.warning("scheduled briefings skipped this time: %s", error)
        return
    for run in runs:
        subscription = run.subscription
        try:
            await deliver_whatsnew(
                context.bot,
                services,
                subscription.chat_id,
                subscription.thread_id,
                subscription.topic,
                subscription.quiet,
                await scheduled_messages(services, subscription.chat_id),
            )
        except Forbidden:  # the bot was removed or blocked: stop briefing that chat
            log.info("chat %s is gone; dropping its subscriptions", subscription.chat_id)
            await asyncio.to_thread(services.state.subscriptions.remove_chat, subscription.chat_id)
        except Exception:  # noqa: BLE001 (one failing chat must not stop the others)
            log.warning("scheduled briefing #%s failed", subscription.id, exc_info=True)
        await asyncio.to_thread(schedule.finished, run)


async def after_reload(bot: Bot, services: Services) -> None:
    """Post what changed to every chat subscribed to changes (run it as a background task:
    one slow or unreachable chat must not hold up the admin who reloaded)."""
    for subscription in await asyncio.to_thread(services.state.subscriptions.all):
        if subscription.kind != "changes":
            continue
        try:
            await deliver_whatsnew(
                bot,
                services,
                subscription.chat_id,
                subscription.thread_id,
                subscription.topic,
                True,
                await scheduled_messages(services, subscription.chat_id),
            )
        except Forbidden:  # the bot was removed or blocked: stop writing to that chat
            log.info("chat %s is gone; dropping its subscriptions", subscription.chat_id)
            await asyncio.to_thread(services.state.subscriptions.remove_chat, subscription.chat_id)
        except Exception:  # noqa: BLE001 (one failing chat must not stop the others)
            log.warning("could not post changes to chat %s", subscription.chat_id, exc_info=True)
