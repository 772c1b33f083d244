"""The message catalog: complete in every language, every key used, and the language a reply
is written in (the user's Telegram language, overridden per chat with /language)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.app import MENU
from bot.messages import CATALOG, LANGUAGE_NAMES, Messages, pick_language
from retrieval.errors import REASONS
from retrieval.sources.extract import _EXPECTED, _FOUND
from retrieval.state.subscriptions import WEEKDAYS
from tests.bot.conftest import RunningBot
from tests.fakes.bot_api import FakeBotApi

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"
# The first argument of a lookup: messages.get("help"), texts.get("a" if x else "b", ...).
LOOKUP = re.compile(r"""(?:\b(?:messages|texts|ENGLISH)|\))\.get\(\s*([^,)]*)""")
KEY = re.compile(r"""(f?)["']([a-z_]+)[{"']""")
# Keys built at run time: the menu's cmd_<name>, the weekdays' day_<mon>, the briefing
# sections, the reload's stages (bot/progress.py), errors by their reason (bot.messages).
BUILT = (
    {f"cmd_{name}" for name in MENU}
    | {f"day_{day}" for day in WEEKDAYS}
    | {"key_points", "positions", "unclear"}
    | {f"reload_progress_{stage}" for stage in ("reading", "embedding", "writing")}
    | {"question_empty", "question_no_words", "question_too_long"}  # by QuestionError.reason
    # by BriefbotError.reason, the kinds of file a mismatch names, the lines of an IngestError
    | {f"error_{reason}" for reason in REASONS}
    | {f"error_expected_{suffix.removeprefix('.')}" for suffix in _EXPECTED}
    | {f"error_found_{kind}" for kind in _FOUND}
    | {"error_failed_file"}
)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def tags(text: str) -> list[str]:
    # Telegram's HTML tags only: "<topic>" in a command's usage is text.
    return re.findall(r"</?(?:b|i|u|s|a|code|pre|blockquote)\b[^>]*>", text)


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_key_has_every_language_with_the_same_placeholders_and_tags(key: str) -> None:
    texts = CATALOG[key]
    assert set(texts) == set(LANGUAGE_NAMES), f"{key}: languages {sorted(texts)}"
    english = texts["en"]
    for language, text in texts.items():
        assert text.strip(), f"{key} is empty in {language}"
        assert placeholders(text) == placeholders(english), f"{key} in {language}"
        assert tags(text) == tags(english), f"{key}: HTML tags differ in {language}"


def test_every_key_used_in_bot_exists_and_every_key_is_used() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in sorted(BOT_DIR.glob("*.py"))
        if path.name != "messages.py"
    )
    used, built = set(), set()
    for argument in LOOKUP.findall(source):
        for prefix, key in KEY.findall(argument):
            (built if prefix else used).add(key)  # f"day_{...}" is a key built at run time
    assert built == {"cmd_", "day_", "question_"}
    assert used - set(CATALOG) == set(), "looked up but not in the catalog"
    assert set(CATALOG) >= BUILT
    assert set(CATALOG) - used - BUILT == set(), "in the catalog but never used"


@pytest.mark.parametrize(
    ("chat", "user", "expected"),
    [
        (None, None, "en"),
        (None, "de", "de"),
        (None, "de-AT", "de"),
        (None, "RU", "ru"),
        (None, "fr", "en"),
        ("ru", "en", "ru"),
        ("de", "ru-RU", "de"),
        ("xx", "de", "de"),  # a stored choice the catalog lost falls back to the user's
    ],
)
def test_pick_language(chat: str | None, user: str | None, expected: str) -> None:
    assert pick_language(chat, user) == expected


def test_messages_fill_placeholders_and_unknown_languages_are_english() -> None:
    assert Messages("de").get("slow_down", seconds=7).endswith("in 7 s erneut versuchen.")
    assert Messages("fr").get("reset_done") == CATALOG["reset_done"]["en"]


def speaks(api: FakeBotApi, user_id: int, language_code: str) -> None:
    """The user the fake sends updates from has this Telegram language."""
    api.private_message("/help", user_id=user_id)  # creates the user in the fake
    api.users[user_id]["language_code"] = language_code


async def next_text(api: FakeBotApi, chat_id: int) -> str:
    call = await api.wait_for("sendMessage", lambda p: p["chat_id"] == chat_id, timeout=60)
    return str(call.params["text"])


async def test_a_german_user_gets_german_help(bot: RunningBot) -> None:
    api = bot.api
    speaks(api, 501, "de-DE")
    assert "How to ask" in await next_text(api, 501)  # sent before the language changed
    api.private_message("/help", user_id=501)
    assert "So fragen Sie" in await next_text(api, 501)
    api.private_message("/reset", user_id=501)
    assert await next_text(api, 501) == Messages("de").get("reset_done")


async def test_language_of_a_chat_overrides_the_users_and_auto_goes_back(
    bot: RunningBot,
) -> None:
    api = bot.api
    speaks(api, 502, "en")
    await next_text(api, 502)
    api.private_message("/language ru", user_id=502)
    assert await next_text(api, 502) == Messages("ru").get("language_set")
    api.private_message("/help", user_id=502)
    assert "Как задавать вопросы" in await next_text(api, 502)
    api.private_message("/language", user_id=502)
    assert "Русский" in await next_text(api, 502)
    api.private_message("/language auto", user_id=502)
    assert await next_text(api, 502) == Messages("en").get("language_cleared")
    api.private_message("/help", user_id=502)
    assert "How to ask" in await next_text(api, 502)
    api.private_message("/language klingon", user_id=502)
    assert "/language en|ru|de|auto" in await next_text(api, 502)


async def test_the_menu_is_set_in_every_language(bot: RunningBot) -> None:
    calls = bot.api.calls_of("setMyCommands")
    by_language = {call.params.get("language_code"): call.params["commands"] for call in calls}
    assert set(by_language) == {None, "ru", "de"}
    assert by_language["de"][0]["description"] == CATALOG["cmd_ask"]["de"]


QUESTION = "How many U.S. troops are stationed in Iraq?"
GROUP, GROUP_ADMIN, MEMBER = -100777, 601, 602


async def test_an_answer_keeps_its_quotes_and_translates_its_labels(bot: RunningBot) -> None:
    api = bot.api
    speaks(api, 503, "de")
    await next_text(api, 503)
    api.private_message(QUESTION, user_id=503)
    sent = await api.wait_for("sendMessage", lambda p: p["chat_id"] == 503, timeout=60)
    assert "troops stationed there to go home. [1]" in sent.params["text"]  # the quote as is
    assert "<b>Quellen</b>" in sent.params["text"]
    buttons = [b["text"] for row in sent.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[0] == CATALOG["hide_quotes"]["de"]


async def test_a_groups_admin_sets_its_language_for_everyone_there(bot: RunningBot) -> None:
    api = bot.api
    api.set_chat_administrators(GROUP, [GROUP_ADMIN])
    api.group_message("/language@BriefingBot de", chat_id=GROUP, user_id=MEMBER)
    assert await next_text(api, GROUP) == CATALOG["only_admins_language"]["en"]
    api.group_message("/language@BriefingBot de", chat_id=GROUP, user_id=GROUP_ADMIN)
    assert await next_text(api, GROUP) == CATALOG["language_set"]["de"]
    api.group_message("/help@BriefingBot", chat_id=GROUP, user_id=MEMBER)
    assert "So fragen Sie" in await next_text(api, GROUP)
    api.group_message("/brief@BriefingBot", chat_id=GROUP, user_id=MEMBER)
    briefing = await next_text(api, GROUP)
    assert "<b>Briefing: alle Dokumente</b>" in briefing
    assert "<b>Fazit</b>" in briefing
    api.group_message(
        "/subscribe@BriefingBot weekly mon 08:00 Iraq", chat_id=GROUP, user_id=GROUP_ADMIN
    )
    assert "wöchentlich am Mo um 08:00 zum Thema \u201eIraq\u201c" in await next_text(api, GROUP)


@pytest.mark.parametrize("reason", ["too_long", "no_words"])
async def test_a_refused_question_is_refused_in_the_users_language(
    bot: RunningBot, reason: str
) -> None:
    api = bot.api
    speaks(api, 502, "ru")
    await next_text(api, 502)
    limit = bot.services.settings.max_question_chars
    question, values = {
        "too_long": ("x" * (limit + 5), {"length": limit + 5, "limit": limit}),
        "no_words": ("\U0001f642\U0001f44d", {}),
    }[reason]
    api.private_message(question, user_id=502)
    assert await next_text(api, 502) == Messages("ru").get(f"question_{reason}", **values)
