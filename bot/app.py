"""The one place that builds the Telegram application: handlers, error handler, rate limiter,
update processing and lifecycle."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import admin, briefings, handlers, health
from bot.access import gate
from bot.context import BotData, BriefApplication, BriefContext, Services
from bot.messages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, Messages, user_messages
from bot.scheduling import FairUpdateProcessor
from bot.updates import SkippedUpdates, UpdatesRequest
from bot.webhook import run_webhook
from config import Settings
from config.logs import install_redaction
from retrieval.briefing.schedule import TICK_SECONDS
from retrieval.errors import BriefbotError
from retrieval.sources.worker import Extractor

log = logging.getLogger(__name__)

# The commands Telegram lists in its menu, described in each language (cmd_<name>); the
# others (/language, /timezone, ...) are in /help.
MENU = ("ask", "brief", "whatsnew", "subscribe", "sources", "reset", "help")


def menu(messages: Messages) -> list[BotCommand]:
    return [BotCommand(name, messages.get(f"cmd_{name}")) for name in MENU]


BRIEFING_COMMANDS = {
    "brief": briefings.brief,
    "whatsnew": briefings.whatsnew,
    "subscribe": briefings.subscribe,
    "unsubscribe": briefings.unsubscribe,
    "subscriptions": briefings.subscriptions,
    "timezone": briefings.timezone,
    "language": briefings.language,  # a chat setting like /timezone, so it lives beside it
}
ADMIN_COMMANDS = {
    "reload": admin.reload,
    "rollback": admin.rollback,
    "docs": admin.docs,
    "remove": admin.remove,
}
# Updates running at once across all chats; one chat's run one at a time (bot/scheduling.py).
MAX_RUNNING_UPDATES = 64


async def _tell_queue_full(update: Update) -> None:
    if update.effective_message is not None:
        # No state database read here: the queue of this chat is full already.
        await update.effective_message.reply_text(user_messages(update).get("queue_full"))


class StoppingApplication(
    Application[ExtBot[Any], BriefContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]]
):
    """PTB's Application, except that stopping first kills the uploads being read: stop()
    waits for every update in progress, and reading one may take a minute."""

    def __init__(self, *, extractor: Extractor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._extractor = extractor

    async def stop(self) -> None:
        self._extractor.stop()
        await super().stop()


def register_handlers(
    application: BriefApplication, admin_ids: tuple[int, ...], extractor: Extractor
) -> None:
    """Every handler, in one place. Order matters: the first matching handler in a group wins."""
    # Strangers and groups off the allowlists stop here, before any other group's handlers.
    application.add_handler(TypeHandler(Update, gate), group=-1)

    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new_messages = filters.UpdateType.MESSAGE  # edits are handled separately

    # Admin commands and uploads, gated here by user id; everyone else is refused politely
    # (and audited) by the same commands registered without the gate right after.
    admins = filters.User(user_id=list(admin_ids))
    for name, callback in ADMIN_COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=new_messages & admins))
    application.add_handler(
        MessageHandler(
            new_messages & private & filters.Document.ALL & admins,
            functools.partial(admin.upload, extractor=extractor),
        )
    )
    # An admin's file in a group is pointed to the private chat; strangers' files are chatter.
    application.add_handler(
        MessageHandler(new_messages & groups & filters.Document.ALL & admins, admin.group_upload)
    )
    application.add_handler(
        CommandHandler(list(ADMIN_COMMANDS), admin.refuse, filters=new_messages)
    )
    application.add_handler(
        MessageHandler(new_messages & private & filters.Document.ALL, admin.refuse)
    )
    application.add_handler(CallbackQueryHandler(admin.remove_button, pattern=r"^rm:"))

    # Commands work in any chat; in groups PTB only matches /cmd or /cmd@ThisBot.
    application.add_handler(CommandHandler("start", handlers.start, filters=new_messages))
    application.add_handler(CommandHandler("help", handlers.help_command, filters=new_messages))
    application.add_handler(CommandHandler("ask", handlers.ask_command, filters=new_messages))
    application.add_handler(CommandHandler("sources", handlers.sources, filters=new_messages))
    application.add_handler(CommandHandler("reset", handlers.reset, filters=new_messages))
    # Briefings: on demand, what is new, and scheduled (the latter by chat admins).
    for name, callback in BRIEFING_COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=new_messages))
    # Any other command addressed to the bot gets the help text (in groups only /x@ThisBot:
    # other bots' commands stay theirs).
    application.add_handler(
        MessageHandler(new_messages & filters.COMMAND, handlers.unknown_command)
    )

    # Questions: every text in private chats; in groups only mentions and replies to the bot.
    application.add_handler(
        MessageHandler(
            new_messages & private & filters.TEXT & ~filters.COMMAND, handlers.private_text
        )
    )
    application.add_handler(
        MessageHandler(
            new_messages & groups & filters.TEXT & ~filters.COMMAND, handlers.group_text
        )
    )

    # Everything else a private chat can send (stickers, photos, voice, locations…) gets a
    # hint; edited questions are asked to be resent. Groups and channels: silence.
    application.add_handler(MessageHandler(new_messages & private, handlers.non_text_private))
    application.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, handlers.edited_private)
    )

    # Buttons under answers.
    application.add_handler(CallbackQueryHandler(handlers.quotes_button, pattern=r"^q:\w+:[01]$"))
    application.add_handler(
        CallbackQueryHandler(handlers.vote_button, pattern=r"^v:\w+:(up|down)$")
    )
    application.add_handler(CallbackQueryHandler(handlers.stale_button))

    application.add_error_handler(handlers.on_error)


def build_application(settings: Settings, services: Services) -> BriefApplication:
    """The Telegram application over the given services; run it with run_bot()."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    # Bot API URLs contain the token, and HTTP clients log URLs: redact before anything logs.
    install_redaction(settings.secrets())

    async def post_init(application: BriefApplication) -> None:
        health.clear_ready(settings.data_dir)  # a marker a killed bot left is not ours
        # Warm the index (and the embedding model) before the first question arrives.
        await asyncio.to_thread(services.knowledge.ensure_index)
        # The default menu in English, and one for each user language the catalog has.
        for code in LANGUAGE_NAMES:
            await application.bot.set_my_commands(
                menu(Messages(code)), language_code=None if code == DEFAULT_LANGUAGE else code
            )
        if application.job_queue is not None:  # scheduled briefings: see briefings.deliver_due
            application.job_queue.run_repeating(
                briefings.deliver_due, interval=TICK_SECONDS, first=0, name="scheduled-briefings"
            )
        manifest = await asyncio.to_thread(services.knowledge.manifest)
        health.mark_ready(settings.data_dir, manifest.version)
        # One line an operator can check the start against (never a secret).
        log.info(
            "serving @%s: %s answers from index v%d (documents %d, passages %d, %s), "
            "%d admins, %s, as %s",
            application.bot.username,
            services.knowledge.mode,
            manifest.version,
            len(manifest.documents),
            manifest.chunk_count,
            manifest.embedder,
            len(settings.admin_ids),
            "webhook" if settings.webhook_url else "long polling",
            services.state.instance,
        )

    async def post_shutdown(application: BriefApplication) -> None:
        health.clear_ready(settings.data_dir)
        services.close()

    extractor = Extractor()
    application: BriefApplication = (
        ApplicationBuilder()
        .application_class(StoppingApplication, kwargs={"extractor": extractor})
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .get_updates_request(UpdatesRequest(SkippedUpdates()))
        .context_types(ContextTypes(context=BriefContext, bot_data=BotData))
        .concurrent_updates(
            FairUpdateProcessor(
                MAX_RUNNING_UPDATES, settings.max_queued_per_chat, _tell_queue_full
            )
        )
        .rate_limiter(AIORateLimiter(max_retries=3))
        # A question deleted before its answer is ready still gets the answer, unthreaded.
        .defaults(Defaults(allow_sending_without_reply=True))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.services = services
    register_handlers(application, settings.admin_ids, extractor)
    return application


class PollingTakenError(BriefbotError):
    """Another instance already polls Telegram with this bot token."""


# Two pollers with one token take each other's updates away (Telegram's 409 Conflict), so the
# poller holds a lease in the state database that replicas share.
POLLING_LEASE_SECONDS = 60.0
POLLING_RENEW_SECONDS = 15.0


def _hold_polling_lease(application: BriefApplication, services: Services) -> None:
    """Take the polling lease for this bot or raise PollingTakenError; keep renewing it, and
    stop polling if it is ever lost."""
    settings, state = services.settings, services.state
    assert settings.telegram_bot_token is not None
    bot_id = settings.telegram_bot_token.get_secret_value().split(":", 1)[0]  # public, not secret
    lease = f"polling:{bot_id}"
    if not state.leases.acquire(lease, state.instance, POLLING_LEASE_SECONDS):
        services.close()
        raise PollingTakenError(
            "another briefbot already polls Telegram with this bot token (it shares this state "
            "database); stop it first, or run several replicas behind a webhook "
            "(BRIEFBOT_WEBHOOK_URL)"
        )

    async def renew(context: BriefContext) -> None:
        held = await asyncio.to_thread(
            state.leases.acquire, lease, state.instance, POLLING_LEASE_SECONDS
        )
        if not held:
            log.error("another instance took over polling with this bot token; stopping")
            context.application.stop_running()

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        renew, interval=POLLING_RENEW_SECONDS, first=POLLING_RENEW_SECONDS, name="polling-lease"
    )


def run_bot(settings: Settings, services: Services) -> None:
    """Serve until stopped: a webhook when BRIEFBOT_WEBHOOK_URL is set, else long polling
    (by one instance per bot token: PollingTakenError when another already polls)."""
    application = build_application(settings, services)
    if settings.webhook_url and settings.webhook_secret is not None:
        asyncio.run(run_webhook(application, services))  # bot/webhook.py: why not PTB's
    else:
        _hold_polling_lease(application, services)
        application.run_polling(allowed_updates=Update.ALL_TYPES)
