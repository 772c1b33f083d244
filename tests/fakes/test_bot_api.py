"""Tests of the fake Bot API itself, driven by PTB's real Bot and Application."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.bot_api import FakeBotApi, HtmlParseError, parse_html

TOKEN = "123456789:fake-token-for-tests-only"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username="BriefingBot") as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


@contextlib.asynccontextmanager
async def running_app(
    api: FakeBotApi, *handlers: BaseHandler[Update, ContextTypes.DEFAULT_TYPE, object]
) -> AsyncIterator[Application[object, object, object, object, object, object]]:
    """A polling Application with the manual lifecycle (P1, P2, P6)."""
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling()
        try:
            await asyncio.wait_for(api.first_get_updates.wait(), 5)
            yield app  # type: ignore[misc]
        finally:
            await app.updater.stop()
            await app.stop()


async def test_get_me(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.username == "BriefingBot"
    assert me.is_bot
    assert me.id == 123456789
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False
    assert api.calls_of("getMe")


async def test_a_private_message_reaches_a_handler_and_its_reply_arrives(
    api: FakeBotApi,
) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"{update.message.text}")

    async with running_app(api, MessageHandler(filters.TEXT, echo)):
        api.private_message("123", user_id=42)  # stays a str: no JSON decoding of text (P4)
        call = await api.wait_for("sendMessage")

    assert call.params["chat_id"] == 42
    assert call.params["text"] == "123"
    assert call.result["chat"] == {"id": 42, "type": "private", "first_name": "Ann"}
    assert call.result["from"]["username"] == "BriefingBot"
    assert call.result["message_id"] == 2  # the user's message was 1 in this chat


async def test_a_group_command_and_mention_get_utf16_entities(api: FakeBotApi) -> None:
    seen: list[tuple[str, object]] = []
    both_seen = asyncio.Event()

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(("ask", context.args))
        assert update.message is not None
        await update.message.reply_text("on it")

    async def mentioned(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append(("mention", list(update.message.parse_entities(["mention"]).values())))
        both_seen.set()

    async with running_app(
        api,
        CommandHandler("ask", ask),
        MessageHandler(filters.Entity(MessageEntity.MENTION), mentioned),
    ):
        api.group_message("/ask@BriefingBot what now", is_forum=True, message_thread_id=7)
        reply = await api.wait_for("sendMessage")
        api.group_message("🙂🙂 hey @BriefingBot")
        await asyncio.wait_for(both_seen.wait(), 5)

    assert seen == [("ask", ["what", "now"]), ("mention", ["@BriefingBot"])]
    assert reply.params["message_thread_id"] == 7  # PTB keeps the topic in forum chats
    assert reply.result["is_topic_message"] is True
    assert reply.params["reply_parameters"]["message_id"] == 1  # PTB quotes in groups (P10)
    assert reply.result["reply_to_message"]["text"] == "/ask@BriefingBot what now"
    assert reply.result["chat"]["type"] == "supergroup"


async def test_callback_query_round_trip(api: FakeBotApi) -> None:
    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
        await update.message.reply_text("Pick", reply_markup=keyboard)

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"You chose {query.data}")

    async with running_app(api, CommandHandler("menu", menu), CallbackQueryHandler(more)):
        api.private_message("/menu")
        sent = await api.wait_for("sendMessage")
        assert sent.result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more:1"
        api.callback_query("more:1", sent.result)
        answer = await api.wait_for("answerCallbackQuery")
        edit = await api.wait_for("editMessageText")

    assert answer.ok
    assert edit.ok
    chat_id, message_id = sent.result["chat"]["id"], sent.result["message_id"]
    current = api.message(chat_id, message_id)
    assert current is not None
    assert current["text"] == "You chose more:1"
    assert "reply_markup" not in current  # editing without reply_markup drops the keyboard


async def test_long_or_broken_html_is_rejected(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(1, "<b>" + "x" * 4097 + "</b>", parse_mode=ParseMode.HTML)
    # PTB strips "Bad Request: " and capitalize()s the rest, lowercasing TDLib's capitals
    with pytest.raises(BadRequest, match='(?i)parse entities: unsupported start tag ""'):
        await bot.send_message(1, "if a < b then", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)can't find end tag corresponding"):
        await bot.send_message(1, "<b>open", parse_mode=ParseMode.HTML)

    # 4096 characters after parsing is fine, and the entities come back parsed
    message = await bot.send_message(1, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(message.text or "") == 4096
    assert message.entities[0].type == MessageEntity.BOLD


async def test_callback_data_over_64_bytes_is_rejected(api: FakeBotApi, bot: Bot) -> None:
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(1, "menu", reply_markup=too_long)

    just_fits = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 32)]])
    assert await bot.send_message(1, "menu", reply_markup=just_fits)


async def test_fail_next_429_surfaces_as_retry_after(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "hello")

    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    assert (await bot.send_message(1, "hello")).text == "hello"  # only the next call failed
    first, second = api.calls_of("sendMessage")
    assert (first.status, second.status) == (429, 200)


async def test_fail_next_other_statuses(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", status=500, times=2)
    api.fail_next("sendChatAction", status=403)

    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(1, "a")
    with pytest.raises(NetworkError):
        await bot.send_message(1, "a")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_chat_action(1, "typing")
    assert await bot.send_message(1, "a")


async def test_get_updates_conflicts_while_a_webhook_is_set(api: FakeBotApi, bot: Bot) -> None:
    await bot.set_webhook("https://example.com/hook", secret_token="s3cret")

    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()

    info = await bot.get_webhook_info()
    assert info.url == "https://example.com/hook"
    assert api.webhook_secret_token == "s3cret"
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_edits_and_deletes_are_checked(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(5, "same")

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("same", chat_id=5, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("new", chat_id=5, message_id=999)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(5, "<b> </b>", parse_mode=ParseMode.HTML)
    assert await bot.delete_message(5, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(5, sent.message_id)


async def test_files_can_be_fetched_and_downloaded(api: FakeBotApi, bot: Bot) -> None:
    api.add_file("doc-7", b"hello file", file_path="documents/notes.txt")
    update = api.document_message("doc-7", "notes.txt")
    assert update["message"]["document"]["file_size"] == 10

    file = await bot.get_file("doc-7")

    assert bytes(await file.download_as_bytearray()) == b"hello file"
    assert api.calls_of("downloadFile")[0].params == {"file_path": "documents/notes.txt"}
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_wrong_token_and_unknown_method(api: FakeBotApi, bot: Bot) -> None:
    wrong = Bot("42:wrong", base_url=api.base_url)
    try:
        with pytest.raises(InvalidToken) as caught:
            await wrong.initialize()
    finally:
        await wrong.shutdown()  # closes the httpx clients initialize() opened
    assert "42:wrong" in str(caught.value)  # PTB puts the rejected token in the message!
    with pytest.raises(BadRequest, match="FAKE has no method flyToMoon"):
        await bot.do_api_request("fly_to_moon", api_kwargs={"chat_id": 1})


async def test_wait_for_timeout_lists_the_calls_seen(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(1, "first")
    await api.wait_for("sendMessage")

    with pytest.raises(AssertionError, match=r"(?s)no unconsumed call of 'sendMessage'.*first"):
        await api.wait_for("sendMessage", timeout=0.05)


async def test_commands_admins_and_chat(api: FakeBotApi, bot: Bot) -> None:
    api.add_chat(-100555, "supergroup", title="Ops", is_forum=True)
    api.set_chat_administrators(-100555, [77], owner_id=1)

    admins = await bot.get_chat_administrators(-100555)
    chat = await bot.get_chat(-100555)
    await bot.set_my_commands([("ask", "Ask a question")])

    assert [(a.status, a.user.id) for a in admins] == [("creator", 1), ("administrator", 77)]
    assert (chat.title, chat.is_forum) == ("Ops", True)
    assert [c.command for c in await bot.get_my_commands()] == ["ask"]
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Ask", "Uppercase is invalid")])


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found'),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
    ],
)
def test_html_errors_match_telegram(html: str, error: str) -> None:
    with pytest.raises(HtmlParseError, match=error):
        parse_html(html)


def test_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_html('➡️ ➡️<i>➡️ ➡️</i> <a href="https://x.y/?a=1&amp;b=2">l</a>')

    assert text == "➡️ ➡️➡️ ➡️ l"
    assert entities == [
        {"type": "italic", "offset": 5, "length": 5},
        {"type": "text_link", "offset": 11, "length": 1, "url": "https://x.y/?a=1&b=2"},
    ]


def test_strict_html_flags_what_telegram_would_let_through() -> None:
    assert parse_html("Q&A > 1")[0] == "Q&A > 1"
    with pytest.raises(HtmlParseError, match="FAKE strict_html"):
        parse_html("Q&A", strict=True)
