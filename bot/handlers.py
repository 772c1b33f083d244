"""Thin handlers: read the update, call one service, render the reply.

Domain errors become user messages here and only here; anything else goes to the one error
handler, which logs it with the update's ids (never another user's text) and apologises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.access import seconds_to_wait
from bot.chats import conversation_key
from bot.context import BriefContext, Services
from bot.messages import ENGLISH, Messages, chat_messages, error_text, user_messages
from bot.render import (
    answer_keyboard,
    render_answer,
    render_sources,
    render_welcome,
)
from bot.streaming import LiveReply, deliver
from config.logs import redact
from retrieval.errors import BriefbotError, IndexUnavailableError, QuestionError
from retrieval.models import Answer, Turn
from retrieval.state.conversations import ConversationKey
from retrieval.state.database import DatabaseUnavailableError

log = logging.getLogger(__name__)

# The English apology, which the tests look for.
GENERIC_FAILURE = ENGLISH.get("generic_failure")


async def start(update: Update, context: BriefContext) -> None:
    """/start: what the bot knows and what to ask."""
    message = update.effective_message
    if message is None:
        return
    knowledge = context.services.knowledge
    manifest = await asyncio.to_thread(knowledge.manifest)
    examples = await asyncio.to_thread(knowledge.example_questions)
    texts = await chat_messages(update, context)
    await message.reply_text(
        render_welcome(manifest, examples, context.bot.username, texts),
        parse_mode=ParseMode.HTML,
    )


async def help_command(update: Update, context: BriefContext) -> None:
    """/help: how to ask."""
    if update.effective_message is not None:
        texts = await chat_messages(update, context)
        await update.effective_message.reply_text(texts.get("help"), parse_mode=ParseMode.HTML)


async def unknown_command(update: Update, context: BriefContext) -> None:
    """A command the bot does not have: the help text, if the command was meant for it."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    command = message.text.split()[0]
    addressed = command.lower().endswith(f"@{context.bot.username}".lower())
    if message.chat.type == ChatType.PRIVATE or addressed:
        texts = await chat_messages(update, context)
        await message.reply_text(texts.get("help"), parse_mode=ParseMode.HTML)


async def sources(update: Update, context: BriefContext) -> None:
    """/sources: the documents, their dates and sections."""
    message = update.effective_message
    if message is None:
        return
    manifest = await asyncio.to_thread(context.services.knowledge.manifest)
    for part in render_sources(manifest, await chat_messages(update, context)):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


async def ask_command(update: Update, context: BriefContext) -> None:
    """/ask <question>, in any chat."""
    if update.effective_message is not None:
        texts = await chat_messages(update, context)
        await _answer(update.effective_message, " ".join(context.args or []), context, texts)


async def private_text(update: Update, context: BriefContext) -> None:
    """Any text in a private chat is a question."""
    message = update.effective_message
    if message is not None and message.text is not None:
        replying = _replies_to_bot(message, context)
        texts = await chat_messages(update, context)
        await _answer(message, message.text, context, texts, replying=replying)


async def group_text(update: Update, context: BriefContext) -> None:
    """In groups: answer a mention of the bot or a reply to one of its messages; nothing else."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    mention = f"@{context.bot.username}".lower()
    mentioned = any(text.lower() == mention for text in _mentions(message))
    to_bot = _replies_to_bot(message, context)
    if not (mentioned or to_bot):
        return
    question = message.text
    for text in _mentions(message):
        if text.lower() == mention:
            question = question.replace(text, " ")
    texts = await chat_messages(update, context)
    await _answer(message, question, context, texts, follow_up=to_bot, replying=to_bot)


def _mentions(message: Message) -> list[str]:
    """The texts of the message's mentions. An entity whose UTF-16 offsets cut a character in
    two (no client sends one; a fuzzed update did) is skipped, not a failed update."""
    found = []
    for entity in message.entities:
        if entity.type != MessageEntity.MENTION:
            continue
        try:
            found.append(message.parse_entity(entity))
        except UnicodeDecodeError:
            continue
    return found


def _replies_to_bot(message: Message, context: BriefContext) -> bool:
    replied = message.reply_to_message
    return (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == context.bot.id
    )


async def non_text_private(update: Update, context: BriefContext) -> None:
    """Stickers, photos, voice, locations… in a private chat: say what works."""
    if update.effective_message is not None:
        texts = await chat_messages(update, context)
        await update.effective_message.reply_text(texts.get("non_text_hint"))


async def edited_private(update: Update, context: BriefContext) -> None:
    """An edited question: answering edits would reorder the conversation; ask to resend."""
    if update.edited_message is not None:
        texts = await chat_messages(update, context)
        await update.edited_message.reply_text(texts.get("edited_hint"))


async def quotes_button(update: Update, context: BriefContext) -> None:
    """The Show/Hide quotes button: re-render the answer's last message."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, answer_id, show = query.data.split(":")
    answer = await asyncio.to_thread(context.services.state.answers.get, answer_id)
    texts = await chat_messages(update, context)
    if answer is None or not isinstance(query.message, Message):
        await query.answer(texts.get("answer_gone_ask_again"))
        return
    rendered = render_answer(answer, show_quotes=show == "1", messages=texts)
    try:
        await query.edit_message_text(
            rendered.parts[-1],
            parse_mode=ParseMode.HTML,
            reply_markup=answer_keyboard(answer_id, show == "1", rendered.togglable, texts),
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():  # a double tap: nothing to change
            raise
    await query.answer()


async def vote_button(update: Update, context: BriefContext) -> None:
    """👍/👎: one vote per user per answer; voting again replaces the vote."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, answer_id, vote = query.data.split(":")
    stored = await asyncio.to_thread(
        context.services.state.answers.vote,
        answer_id,
        query.from_user.id,
        "up" if vote == "up" else "down",
    )
    texts = await chat_messages(update, context)
    await query.answer(texts.get("vote_thanks" if stored else "answer_gone"))


async def stale_button(update: Update, context: BriefContext) -> None:
    """Buttons from an older version of the bot."""
    if update.callback_query is not None:
        texts = await chat_messages(update, context)
        await update.callback_query.answer(texts.get("stale_button"))


async def on_error(update: object, context: BriefContext) -> None:
    """Log with the update's ids (not its text) and tell the user something went wrong."""
    ids = ""
    if isinstance(update, Update):
        chat, user = update.effective_chat, update.effective_user
        ids = f"update {update.update_id} chat {chat.id if chat else '-'}"
        ids += f" user {user.id if user else '-'}"
    log.error("error while handling %s", ids or "no update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_message is None:
        return
    message = update.effective_message
    # The chat's choice is not read here: the error may be the state database itself.
    texts = user_messages(update)
    text = texts.get("generic_failure")
    user = update.effective_user
    if user is not None and user.id in context.services.settings.admin_ids:
        # Admins can act on the reason (a full disk, a broken store); redacted like the logs.
        reason = redact(
            f"{type(context.error).__name__}: {context.error}", context.services.settings.secrets()
        )
        text += "\n\n" + texts.get("for_admins", reason=reason[:500])
    try:
        await deliver(partial(message.reply_text, text), "an apology")
    except Exception:  # noqa: BLE001 (the apology is best effort)
        log.warning("could not tell the user about the error", exc_info=True)


async def reset(update: Update, context: BriefContext) -> None:
    """/reset: forget the conversation, so the next question is read on its own."""
    message = update.effective_message
    if message is not None:
        await asyncio.to_thread(
            context.services.state.conversations.reset, conversation_key(message)
        )
        texts = await chat_messages(update, context)
        await message.reply_text(texts.get("reset_done"))


TYPING_REFRESH = 4.5  # seconds; Telegram shows "typing…" for 5 s after each action
TYPING_FIRST_WAIT = 2.0  # seconds an answer waits, at most, for the first "typing…" to land


class _Typing:
    """Shows "typing…" from the moment a question is taken until its answer goes out, refreshed
    while a slow model writes; best effort. It runs beside the answer instead of before it
    (a Bot API round trip off every reply), and `stop` lets the first action land first, for
    up to TYPING_FIRST_WAIT: one arriving after the answer would show "typing…" under it."""

    def __init__(self, message: Message) -> None:
        self._message = message
        self._first_sent = asyncio.Event()
        self._task = asyncio.create_task(self._keep())

    async def _keep(self) -> None:
        while True:
            try:
                await self._message.reply_chat_action(ChatAction.TYPING)
            except TelegramError as error:
                log.info("could not show the typing indicator (%s)", error)
            finally:
                self._first_sent.set()  # sent or not, the answer need not wait for it
            await asyncio.sleep(TYPING_REFRESH)

    async def stop(self) -> None:
        """Stop refreshing; also when the answer itself is cancelled meanwhile."""
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_sent.wait(), TYPING_FIRST_WAIT)
        finally:
            self._task.cancel()


async def _history(services: Services, key: ConversationKey) -> list[Turn]:
    """The conversation so far; none when the state database fails (asked on its own)."""
    try:
        return await asyncio.to_thread(services.state.conversations.history, key)
    except DatabaseUnavailableError as error:
        log.warning("conversation not read (%s); answering the question on its own", error)
        return []


async def _answer(
    message: Message,
    question: str,
    context: BriefContext,
    texts: Messages,
    follow_up: bool = True,
    replying: bool = False,
) -> None:
    """Answer a question with its sources and buttons, as replies to the asking message.

    A follow-up ("and who said that?") is read with the conversation's last turns; in
    groups, only a reply to the bot is a follow-up.
    """
    services = context.services
    try:
        cleaned = services.knowledge.check_question(question)
    except QuestionError as error:
        await message.reply_text(texts.get(f"question_{error.reason}", **error.values))
        return
    user_id = message.from_user.id if message.from_user else None
    if (refusal := services.question_limits.admit(user_id, message.chat_id)) is not None:
        if refusal.tell:
            await message.reply_text(texts.get("slow_down", seconds=seconds_to_wait(refusal)))
        return
    key = conversation_key(message)
    history = await _history(services, key) if follow_up else []
    live = LiveReply(message, context.bot)
    answer: Answer | None = None
    typing = _Typing(message)  # stopped in the finally below, whatever happens
    try:
        try:
            async for step in services.knowledge.ask_streaming(
                cleaned, history=history, replying=replying
            ):
                if step.answer is not None:
                    answer = step.answer
                else:
                    await live.preview(step.draft)
        finally:
            await typing.stop()
    except IndexUnavailableError:
        log.exception("no index to answer from")
        await live.discard()
        await message.reply_text(texts.get("no_index"))
        return
    except BriefbotError as error:
        await live.discard()
        await message.reply_text(error_text(error, texts))
        return
    except Exception:
        await live.discard()  # never leave an unchecked preview standing
        raise
    if answer is None:  # ask_streaming always ends with the Answer
        raise RuntimeError("the answer stream ended without an answer")
    rendered = render_answer(answer, show_quotes=True, messages=texts)
    try:
        answer_id = await asyncio.to_thread(services.state.answers.record, answer)
    except DatabaseUnavailableError as error:  # a full disk, say: the answer still goes out
        log.warning("answer log not written (%s); sending the answer without buttons", error)
        await live.finish(rendered.parts, None)
    else:
        keyboard = answer_keyboard(answer_id, True, rendered.togglable, texts)
        await live.finish(rendered.parts, keyboard)
    # After the reply, not before it: this chat's next update waits for this one
    # (bot/scheduling.py), so a follow-up still finds the turn.
    try:
        await asyncio.to_thread(services.state.conversations.add, key, Turn(cleaned, answer.text))
    except DatabaseUnavailableError as error:  # the answer matters more than its follow-ups
        log.warning("conversation not kept (%s)", error)
