"""A fake Telegram Bot API server for end-to-end tests of a python-telegram-bot application.

Start it with ``async with FakeBotApi(token=TOKEN, bot_username="BriefingBot") as api:`` and point
PTB at it with ``base_url=api.base_url`` and ``base_file_url=api.base_file_url``. The fake

* records every request in ``api.calls`` (method, decoded params, arrival time, status, result);
* queues updates built by ``api.private_message(...)``, ``api.group_message(...)`` and friends and
  hands them out through a real long-polling ``getUpdates``;
* validates the way Telegram does where bots typically go wrong: empty or over-long texts, HTML
  that Telegram's parser rejects (a port of TDLib's ``parse_html``), ``callback_data`` over 64
  bytes, editing a message that does not exist or would not change, answering a callback query
  twice, and ``getUpdates`` while a webhook is set;
* can fail the next N calls of a method on request (``api.fail_next``), e.g. with a 429.

Error descriptions are Telegram's (``"Bad Request: message is too long"``); PTB strips the
``"Bad Request: "`` prefix and capitalises the rest, so ``BUTTON_DATA_INVALID`` surfaces as
``BadRequest("Button_data_invalid")``. Anything the fake made up itself says ``FAKE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = [
    "DEFAULT_GROUP_ID",
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "ApiError",
    "Call",
    "FakeBotApi",
    "HtmlParseError",
    "StoredFile",
    "UploadedFile",
    "detect_entities",
    "parse_html",
    "utf16_len",
]

JSON = dict[str, Any]
MethodHandler = Callable[[JSON], Any]
"""A method implementation: takes the decoded params, returns the ``result`` (or an awaitable of
it), or raises :class:`ApiError`."""

DEFAULT_TOKEN = "123456789:fake-token-for-tests-only"
DEFAULT_USER_ID = 1111
DEFAULT_GROUP_ID = -100123
DEFAULT_CHANNEL_ID = -1001000

MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLLING_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

# Parameters that are strings in the Bot API. PTB sends str values as they are and json.dumps
# everything else, so these must not be JSON-decoded: a text "123" would become an int (P4).
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "file_id",
        "url",
        "secret_token",
        "ip_address",
        "title",
        "description",
        "short_description",
        "name",
        "custom_title",
        "language_code",
        "emoji",
        "question",
        "explanation",
        "address",
        "parse_mode",
        "action",
    }
)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

UPDATE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
)


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self, status: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class HtmlParseError(ValueError):
    """Telegram rejected the HTML; the message is TDLib's (without the API prefix)."""


@dataclass
class Call:
    """One request the bot made. ``time`` is ``time.monotonic()`` at arrival."""

    method: str
    params: JSON
    time: float
    status: int = 200
    result: Any = None
    description: str | None = None
    consumed: bool = field(default=False, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str
    content: bytes


@dataclass
class StoredFile:
    """A file that getFile and the download route know about."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    file_size: int

    def as_file(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None


# --------------------------------------------------------------------------------------------
# Text helpers


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets (P9)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_MENTION_RE = re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)")
_BOT_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")


def detect_entities(text: str) -> list[JSON]:
    """The ``mention`` and ``bot_command`` entities Telegram adds to an incoming text.

    Same patterns as TDLib's ``match_mentions`` / ``match_bot_commands``; offsets and lengths are
    UTF-16 code units. URLs, hashtags and the like are not detected.
    """
    found: list[JSON] = []
    for kind, pattern in (("mention", _MENTION_RE), ("bot_command", _BOT_COMMAND_RE)):
        for match in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group()),
                }
            )
    found.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return found


# --- HTML: a port of TDLib's parse_html (td/telegram/MessageEntity.cpp), which the Bot API uses.

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = frozenset(" \t\r\n\v\0")  # td::is_space; "\0" also marks the end of the input
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_TG_USER_RE = re.compile(r"tg://user\?id=(\d+)$", re.IGNORECASE)


def _ascii_lower(text: str) -> str:
    return text.translate({c: c + 32 for c in range(ord("A"), ord("Z") + 1)})


def _decode_html_entity(html: str, pos: int) -> tuple[int, int]:
    """Decode the character reference at ``html[pos] == "&"``: (code point or 0, end)."""

    def at(index: int) -> str:
        return html[index] if index < len(html) else "\0"

    end = pos + 1
    code = 0
    if at(end) == "#":
        end += 1
        if at(end) == "x":
            end += 1
            while at(end) in "0123456789abcdefABCDEF":
                code = code * 16 + int(at(end), 16)
                end += 1
        else:
            while at(end) in "0123456789":
                code = code * 10 + int(at(end))
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while at(end).isascii() and at(end).isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(html[pos + 1 : end])
        if named is None:
            return 0, pos
        code = ord(named)
    if at(end) == ";":
        end += 1
    return code, end


def parse_html(html: str, *, strict: bool = False) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML into (plain text, entities) or raise :class:`HtmlParseError`.

    Follows TDLib's parser, error texts included: supported tags only, balanced tags, named
    entities limited to ``&lt; &gt; &amp; &quot;`` plus numeric ones. Like Telegram it leaves an
    unknown ``&name;`` or a bare ``&``/``>`` as literal text; with ``strict=True`` those are
    rejected too (a FAKE-only check that catches text the bot forgot to escape).
    """
    n = len(html)

    def at(index: int) -> str:
        return html[index] if index < n else "\0"

    def byte_offset(index: int) -> int:
        return len(html[:index].encode("utf-8", "surrogatepass"))

    out: list[str] = []  # one code point per item, so len(out) is a text position
    utf16 = 0
    entities: list[JSON] = []
    code_languages: dict[int, str] = {}  # id(code entity) -> language, dropped at the end
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, text position

    i = 0
    while i < n:
        c = html[i]
        if c == "&":
            code, end = _decode_html_entity(html, i)
            if code:
                out.append(chr(code))
                utf16 += 2 if code > 0xFFFF else 1
                i = end
                continue
            if strict:
                raise HtmlParseError(
                    f'FAKE strict_html: unescaped "&" at byte offset {byte_offset(i)} '
                    "(Telegram would show it as is; escape it as &amp;)"
                )
        if c != "<":
            if strict and c == ">":
                raise HtmlParseError(
                    f'FAKE strict_html: unescaped ">" at byte offset {byte_offset(i)} '
                    "(Telegram would show it as is; escape it as &gt;)"
                )
            out.append(c)
            utf16 += utf16_len(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # a start tag
            while at(i) not in _SPACE and at(i) != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = _ascii_lower(html[begin + 1 : i])
            if tag not in _HTML_TAGS:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and at(i) in _SPACE:
                    i += 1
                if at(i) == ">":
                    break
                name_begin = i
                while at(i) not in _SPACE and at(i) not in "=>/\"'":
                    i += 1
                attribute = html[name_begin:i]
                if not attribute:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{byte_offset(begin)}"
                    )
                while i < n and at(i) in _SPACE:
                    i += 1
                if at(i) != "=":
                    if i >= n:
                        raise HtmlParseError(
                            f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
                        )
                    if tag == "blockquote" and attribute == "expandable":
                        argument = "1"
                    continue
                i += 1
                while i < n and at(i) in _SPACE:
                    i += 1
                if i >= n:
                    raise HtmlParseError(
                        f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i) in _ASCII_ALNUM or at(i) in ".-":
                        i += 1
                    value = _ascii_lower(html[token_begin:i])
                    if at(i) not in _SPACE and at(i) != ">":
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset "
                            f"{byte_offset(token_begin)}"
                        )
                else:
                    quote = html[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and html[i] != quote:
                        if html[i] == "&":
                            code, end = _decode_html_entity(html, i)
                            if code:
                                chars.append(chr(code))
                                i = end
                                continue
                        chars.append(html[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value.removeprefix("tg-")
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attribute == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            stack.append((tag, argument, utf16, len(out)))
            i += 1  # skip ">"
            continue

        # an end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while at(i) not in _SPACE and at(i) != ">":
            i += 1
        end_tag = _ascii_lower(html[begin + 2 : i])
        while i < n and at(i) in _SPACE:
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        tag, argument, offset, text_begin = stack[-1]
        if end_tag and end_tag != tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                f'expected "</{tag}>", found "</{end_tag}>"'
            )
        if utf16 > offset:
            length = utf16 - offset
            entity: JSON = {"offset": offset, "length": length}
            last = entities[-1] if entities else None
            same_span = last is not None and last["offset"] == offset and last["length"] == length
            if tag in _SIMPLE_TAG_TYPES:
                entities.append({"type": _SIMPLE_TAG_TYPES[tag], **entity})
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise HtmlParseError("Invalid custom emoji identifier specified")
                entities.append({"type": "custom_emoji", **entity, "custom_emoji_id": argument})
            elif tag == "a":
                url = argument or "".join(out[text_begin:])
                user = _TG_USER_RE.match(url.strip())
                if user:
                    user_json = {"id": int(user.group(1)), "is_bot": False, "first_name": "User"}
                    entities.append({"type": "text_mention", **entity, "user": user_json})
                elif url.strip():
                    entities.append({"type": "text_link", **entity, "url": url.strip()})
            elif tag == "pre":
                if last is not None and same_span and id(last) in code_languages:
                    last["type"] = "pre"
                    last["language"] = code_languages.pop(id(last))
                else:
                    entities.append({"type": "pre", **entity})
            elif tag == "code":
                if last is not None and same_span and last["type"] == "pre" and argument:
                    last["language"] = argument
                else:
                    code_entity = {"type": "code", **entity}
                    entities.append(code_entity)
                    if argument:
                        code_languages[id(code_entity)] = argument
            else:  # blockquote
                kind = "expandable_blockquote" if argument else "blockquote"
                entities.append({"type": kind, **entity})
        stack.pop()
        i += 1  # skip ">"

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    text = "".join(out)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise HtmlParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        ) from None
    entities.sort(key=lambda item: (item["offset"], -item["length"]))
    return text, entities


# --------------------------------------------------------------------------------------------
# Request parsing


def _decode_value(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> JSON:
    params: JSON = {name: _decode_value(name, value) for name, value in request.query.items()}
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: FAKE could not parse the JSON body") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: FAKE expects a JSON object as the body")
        params.update(body)
        return params
    form = await request.post()  # form-encoded and multipart alike
    for name, value in form.items():
        if isinstance(value, web.FileField):
            params[name] = UploadedFile(value.filename, value.content_type, value.file.read())
        else:
            params[name] = _decode_value(name, value)
    return params


def _int_param(params: JSON, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ApiError(400, f"Bad Request: wrong parameter {name} in request")
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"Bad Request: wrong parameter {name} in request") from None


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------
# The fake


class FakeBotApi:
    """An aiohttp server on 127.0.0.1 (ephemeral port) speaking enough of the Bot API for PTB.

    Chats are created on first use (an update builder or a send to an unknown chat id: positive
    ids become private chats, negative ones supergroups). Pass ``strict_chats=True`` to get
    Telegram's ``"Bad Request: chat not found"`` for chats no builder or :meth:`add_chat` made.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "BriefingBot",
        *,
        bot_first_name: str = "Briefing Bot",
        strict_html: bool = True,
        strict_chats: bool = False,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456789
        self.bot_username = bot_username
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.strict_html = strict_html
        self.strict_chats = strict_chats

        self.calls: list[Call] = []
        self.first_get_updates = asyncio.Event()
        self.internal_errors: list[BaseException] = []

        self.chats: dict[int, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[str, list[JSON]] = {}
        self.webhook_url = ""
        self.webhook_secret_token: str | None = None
        self.webhook_params: JSON = {}
        self.left_chats: set[int] = set()
        """Chats the bot left with ``leaveChat``."""

        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_message_id: dict[int, int] = {}
        self._updates: list[JSON] = []
        self._allowed_updates: list[str] = []
        self._next_update_id = 1
        self._callback_ids = itertools.count(4_382_910_000_000_000_001)
        self._open_callback_queries: set[str] = set()
        self._administrators: dict[int, list[JSON]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._file_counter = itertools.count(1)

        self._calls_changed = asyncio.Condition()
        self._updates_changed = asyncio.Condition()
        self._poll_generation = 0
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self._methods: dict[str, tuple[str, MethodHandler]] = {}
        for name, handler in {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "sendMessageDraft": self._send_message_draft,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMember": self._get_chat_member,
            "leaveChat": self._leave_chat,
        }.items():
            self.register(name, handler)

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_download)
        # No access log: it would print the token with every request line.
        # handler_cancellation: a long poll whose client went away (updater.stop()) ends at once.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        async with self._updates_changed:
            self._closing = True
            self._updates_changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for task in list(self._tasks):
            task.cancel()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not running; use `async with FakeBotApi(...)`")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``: PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---------------------------------------------------------------- configuration

    def register(self, method: str, handler: MethodHandler) -> None:
        """Add or replace a method. ``handler(params)`` returns the result (sync or async) or
        raises :class:`ApiError`. Method names are matched case-insensitively, like Telegram."""
        self._methods[method.lower()] = (method, handler)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Fail the next ``times`` calls of ``method`` with ``status``.

        429 answers carry ``parameters.retry_after`` (PTB raises ``RetryAfter``); 400 gives
        ``BadRequest``, 403 ``Forbidden``, 409 ``Conflict``, 5xx ``NetworkError``.
        """
        if description is None:
            if status == HTTPStatus.TOO_MANY_REQUESTS:
                description = f"Too Many Requests: retry after {retry_after}"
            elif status == HTTPStatus.BAD_REQUEST:
                description = "Bad Request: FAKE injected failure"
            elif status == HTTPStatus.FORBIDDEN:
                description = "Forbidden: bot was blocked by the user"
            else:
                try:
                    description = HTTPStatus(status).phrase
                except ValueError:
                    description = f"FAKE injected failure {status}"
        failure = _Failure(
            status, description, retry_after if status == HTTPStatus.TOO_MANY_REQUESTS else None
        )
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend(failure for _ in range(times))

    def add_chat(
        self,
        chat_id: int,
        chat_type: str = "supergroup",
        *,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        is_forum: bool | None = None,
    ) -> JSON:
        """Create or update a chat; returns its Chat dict."""
        chat = self.chats.get(chat_id)
        if chat is None or chat["type"] != chat_type:
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = first_name or f"User{chat_id}"
            else:
                chat["title"] = title or f"Chat {chat_id}"
            self.chats[chat_id] = chat
        if chat_type == "private" and first_name:
            chat["first_name"] = first_name
        if chat_type != "private" and title:
            chat["title"] = title
        if username:
            chat["username"] = username
        if is_forum is not None:
            if is_forum:
                chat["is_forum"] = True
            else:
                chat.pop("is_forum", None)
        return copy.deepcopy(chat)

    def set_chat_administrators(
        self, chat_id: int, admins: Iterable[int | JSON], *, owner_id: int | None = None
    ) -> None:
        """What getChatAdministrators (and getChatMember) report for a chat.

        ints become full ``ChatMemberAdministrator`` dicts, dicts are used as they are; the
        optional owner is listed first as ``creator``. Unconfigured groups have one owner, user 1.
        """
        members: list[JSON] = []
        if owner_id is not None:
            members.append(self._owner(owner_id))
        for admin in admins:
            members.append(self._administrator(admin) if isinstance(admin, int) else admin)
        self._administrators[chat_id] = members

    def add_file(
        self,
        file_id: str,
        content: bytes,
        file_path: str | None = None,
        file_size: int | None = None,
    ) -> JSON:
        """Make ``file_id`` known to getFile and downloadable; returns the File dict.

        ``file_size`` may overstate the content, e.g. to trigger "file is too big" (> 20 MB).
        """
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"u-{file_id}",
            content=content,
            file_path=file_path or f"documents/file_{next(self._file_counter)}",
            file_size=len(content) if file_size is None else file_size,
        )
        self.files[file_id] = stored
        return stored.as_file()

    # ---------------------------------------------------------------- inspection

    def calls_of(self, method: str) -> list[Call]:
        """Every recorded call of ``method``, consumed or not, in arrival order."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[JSON], bool] | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109 - part of the assertion, not a cancel scope
    ) -> Call:
        """Return (and consume) the first not yet consumed call of ``method`` whose params
        satisfy ``predicate``, waiting up to ``timeout`` seconds for it to arrive.

        Failed calls (e.g. an injected 429) count too; check ``call.status``. A predicate that
        raises KeyError/TypeError/IndexError/AttributeError counts as "no match". On timeout it
        raises AssertionError listing every call seen.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._calls_changed:
            while True:
                for call in self.calls:
                    if call.consumed or call.method != method:
                        continue
                    if predicate is None or self._matches(predicate, call.params):
                        call.consumed = True
                        return call
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(method, predicate, timeout))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._calls_changed.wait(), remaining)

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """The current state of a message (after edits), or None if unknown or deleted."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored) if stored is not None else None

    def bot_messages(self, chat_id: int) -> list[JSON]:
        """The bot's messages in a chat that still exist, oldest first, as currently edited."""
        return [
            copy.deepcopy(message)
            for (chat, _), message in sorted(self._messages.items())
            if chat == chat_id and message.get("from", {}).get("id") == self.bot_id
        ]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._updates)

    async def wait_confirmed(
        self,
        timeout: float = 30.0,  # noqa: ASYNC109 - part of the assertion, not a cancel scope
    ) -> None:
        """Wait until a getUpdates offset has confirmed every queued update; on timeout raise
        AssertionError listing the ones still pending."""
        async with self._updates_changed:
            try:
                await asyncio.wait_for(
                    self._updates_changed.wait_for(lambda: not self._updates), timeout
                )
            except TimeoutError:
                pending = [update["update_id"] for update in self._updates]
                raise AssertionError(
                    f"FakeBotApi.wait_confirmed: updates {pending} still pending after {timeout}s"
                ) from None

    # ---------------------------------------------------------------- update builders

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update (``update_id`` is assigned if missing) and return it."""
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if isinstance(update.get(kind), dict):
                self._remember(update[kind])
        query = update.get("callback_query")
        if isinstance(query, dict):
            self._open_callback_queries.add(str(query["id"]))
        self._updates.append(copy.deepcopy(update))
        self._wake_pollers()
        return update

    def private_message(
        self,
        text: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        chat_id: int | None = None,
        first_name: str = "Ann",
        username: str | None = None,
        entities: list[JSON] | None = None,
        reply_to_message: JSON | None = None,
    ) -> JSON:
        """A text message from a user to the bot in a private chat. Mention and bot_command
        entities are computed unless ``entities`` is given."""
        return self._user_message(
            {"text": text, **self._entities_field("entities", text, entities)},
            chat_id=user_id if chat_id is None else chat_id,
            chat_type="private",
            user_id=user_id,
            first_name=first_name,
            username=username,
            reply_to_message=reply_to_message,
        )

    def group_message(
        self,
        text: str,
        *,
        chat_id: int = DEFAULT_GROUP_ID,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Ann",
        username: str | None = None,
        chat_type: str = "supergroup",
        title: str | None = None,
        is_forum: bool | None = None,
        message_thread_id: int | None = None,
        reply_to_message: JSON | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A text message in a group. ``@BriefingBot`` mentions and ``/cmd@BriefingBot``
        commands get their entities (UTF-16 offsets) unless ``entities`` is given."""
        return self._user_message(
            {"text": text, **self._entities_field("entities", text, entities)},
            chat_id=chat_id,
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
            username=username,
            title=title,
            is_forum=is_forum,
            message_thread_id=message_thread_id,
            reply_to_message=reply_to_message,
        )

    def sticker_message(
        self,
        *,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Ann",
        chat_type: str = "private",
        title: str | None = None,
        emoji: str = "👍",
        file_id: str = "sticker-1",
        message_thread_id: int | None = None,
    ) -> JSON:
        sticker = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
            "file_size": 20480,
        }
        return self._user_message(
            {"sticker": sticker},
            chat_id=self._default_chat(chat_id, chat_type, user_id),
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
            title=title,
            message_thread_id=message_thread_id,
        )

    def photo_message(
        self,
        *,
        caption: str | None = None,
        caption_entities: list[JSON] | None = None,
        file_id: str = "photo-1",
        width: int = 1280,
        height: int = 960,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Ann",
        chat_type: str = "private",
        title: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message: JSON | None = None,
    ) -> JSON:
        """A photo (a thumbnail plus ``file_id`` as the largest size) with an optional caption."""
        stored = self.files.get(file_id)
        sizes = [
            {
                "file_id": f"{file_id}-thumb",
                "file_unique_id": f"u-{file_id}-thumb",
                "width": 90,
                "height": max(1, 90 * height // max(width, 1)),
                "file_size": 1500,
            },
            {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "width": width,
                "height": height,
                "file_size": stored.file_size if stored else 150_000,
            },
        ]
        content: JSON = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
            content.update(self._entities_field("caption_entities", caption, caption_entities))
        return self._user_message(
            content,
            chat_id=self._default_chat(chat_id, chat_type, user_id),
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
            title=title,
            message_thread_id=message_thread_id,
            reply_to_message=reply_to_message,
        )

    def document_message(
        self,
        file_id: str = "doc-1",
        file_name: str = "notes.txt",
        mime_type: str = "text/plain",
        file_size: int | None = None,
        *,
        caption: str | None = None,
        caption_entities: list[JSON] | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Ann",
        chat_type: str = "private",
        title: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message: JSON | None = None,
    ) -> JSON:
        """A document. ``file_size`` defaults to the size of a file added with
        :meth:`add_file` under the same id (else 1024)."""
        if file_size is None:
            stored = self.files.get(file_id)
            file_size = stored.file_size if stored else 1024
        document = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": file_size,
        }
        content: JSON = {"document": document}
        if caption is not None:
            content["caption"] = caption
            content.update(self._entities_field("caption_entities", caption, caption_entities))
        return self._user_message(
            content,
            chat_id=self._default_chat(chat_id, chat_type, user_id),
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
            title=title,
            message_thread_id=message_thread_id,
            reply_to_message=reply_to_message,
        )

    def callback_query(
        self,
        data: str,
        message: JSON,
        *,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Ann",
    ) -> JSON:
        """A press on an inline button of ``message`` (a message dict the bot sent, e.g.
        ``call.result``). The message is sent in its current, possibly edited, state."""
        message = self._unwrap(message)
        current = self._messages.get((message["chat"]["id"], message["message_id"]), message)
        query = {
            "id": str(next(self._callback_ids)),
            "from": self._user(user_id, first_name),
            "chat_instance": f"ci{abs(int(message['chat']['id']))}",
            "message": copy.deepcopy(current),
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def edited_message(
        self, message: JSON, text: str, *, entities: list[JSON] | None = None
    ) -> JSON:
        """The user edited ``message`` (a message dict or an update built by this fake)."""
        original = self._unwrap(message)
        key = (original["chat"]["id"], original["message_id"])
        edited = copy.deepcopy(self._messages.get(key, original))
        edited["text"] = text
        edited.pop("entities", None)
        edited.update(self._entities_field("entities", text, entities))
        edited["edit_date"] = int(time.time())
        return self.push_update({"edited_message": edited})

    def channel_post(
        self,
        text: str,
        *,
        chat_id: int = DEFAULT_CHANNEL_ID,
        title: str | None = None,
        username: str | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        known = chat_id in self.chats and self.chats[chat_id]["type"] == "channel"
        chat = self.add_chat(
            chat_id,
            "channel",
            title=title or (None if known else "Test Channel"),
            username=username,
        )
        post = {
            "message_id": self._next_message_id(chat_id),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
            **self._entities_field("entities", text, entities),
        }
        return self.push_update({"channel_post": post})

    # ---------------------------------------------------------------- HTTP handlers

    async def _handle_method(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method = request.match_info["method"]
        params: JSON = {}
        result: Any = None
        try:
            params = await _read_params(request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            canonical, handler = self._methods.get(method.lower(), (method, None))
            method = canonical
            self._raise_injected_failure(method)
            if handler is None:
                raise ApiError(400, f"FAKE has no method {method}")
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.status, exc.body()
        except Exception as exc:  # a bug in the fake: answer 500 and keep it visible
            self.internal_errors.append(exc)
            status = 500
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"FAKE internal error in {method}: {exc!r}",
            }
        await self._record(Call(method, params, arrived, status, result, body.get("description")))
        return web.json_response(body, status=status)

    async def _handle_download(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        file_path = request.match_info["file_path"]
        params: JSON = {"file_path": file_path}
        if request.match_info["token"] != self.token:
            await self._record(Call("downloadFile", params, arrived, 401, None, "Unauthorized"))
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        stored = next((f for f in self.files.values() if f.file_path == file_path), None)
        if stored is None:
            await self._record(Call("downloadFile", params, arrived, 404, None, "Not Found"))
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        await self._record(Call("downloadFile", params, arrived, 200, len(stored.content)))
        return web.Response(body=stored.content, content_type="application/octet-stream")

    # ---------------------------------------------------------------- methods

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        self.first_get_updates.set()
        offset = _int_param(params, "offset")
        limit = min(100, max(1, _int_param(params, "limit") or 100))
        timeout = max(0, _int_param(params, "timeout") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        async with self._updates_changed:
            if offset is not None and offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset is not None and offset < 0:
                self._updates = self._updates[offset:]
            if self._allowed_updates:
                self._updates = [u for u in self._updates if self._is_allowed(u)]
            # A second poller terminates the first one, as on Telegram.
            self._poll_generation += 1
            generation = self._poll_generation
            self._updates_changed.notify_all()

            def ready() -> bool:
                return (
                    self._closing
                    or generation != self._poll_generation
                    or any(self._is_allowed(u) for u in self._updates)
                )

            if timeout > 0 and not ready():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._updates_changed.wait_for(ready), timeout)
            if generation != self._poll_generation:
                raise ApiError(409, POLLING_CONFLICT)
            if self.webhook_url:
                raise ApiError(409, WEBHOOK_CONFLICT)
            return copy.deepcopy([u for u in self._updates if self._is_allowed(u)][:limit])

    def _send_message(self, params: JSON) -> JSON:
        chat = self._chat_for(params)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._inline_markup(params.get("reply_markup"))
        text, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        reply_to, quote = self._reply_target(chat, params)
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        thread_id = _int_param(params, "message_thread_id")
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = reply_to
            if quote is not None:
                message["quote"] = quote
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _edit_message_text(self, params: JSON) -> JSON:
        stored = self._message_to_edit(params)
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._inline_markup(params.get("reply_markup"))
        text, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if "text" not in stored:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if (
            stored["text"] == text
            and stored.get("entities", []) == entities
            and stored.get("reply_markup") == markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        stored["text"] = text
        self._set_optional(stored, "entities", entities or None)
        self._set_optional(stored, "reply_markup", markup)
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        stored = self._message_to_edit(params)
        markup = self._inline_markup(params.get("reply_markup"))
        if stored.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        self._set_optional(stored, "reply_markup", markup)
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)

    def _delete_message(self, params: JSON) -> bool:
        chat = self._chat_for(params)
        message_id = _int_param(params, "message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        if self._messages.pop((chat["id"], message_id), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _send_chat_action(self, params: JSON) -> bool:
        self._chat_for(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _send_message_draft(self, params: JSON) -> bool:
        """Bot API 9.3: an ephemeral preview of a message being written, private chats only."""
        chat = self._chat_for(params)
        if chat["type"] != "private":
            raise ApiError(400, "Bad Request: drafts can be sent only to private chats")
        if not params.get("draft_id"):
            raise ApiError(400, "Bad Request: draft_id must be non-zero")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callback_queries:
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        return True

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands", [])
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands specified")
        checked: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict) or "command" not in command:
                raise ApiError(
                    400, "Bad Request: can't parse BotCommand: Can't find field \"command\""
                )
            name = str(command["command"])
            description = str(command.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not description.strip():
                raise ApiError(400, "Bad Request: command description must be non-empty")
            if len(description) > 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            checked.append({"command": name, "description": description})
        self.commands[self._commands_key(params)] = checked
        return True

    def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = url
        self.webhook_secret_token = str(secret) if secret is not None and url else None
        self.webhook_params = {k: v for k, v in params.items() if k != "certificate"}
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
        self._wake_pollers()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = ""
        self.webhook_secret_token = None
        self.webhook_params = {}
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = int(self.webhook_params.get("max_connections") or 40)
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _get_file(self, params: JSON) -> JSON:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        return stored.as_file()

    def _get_chat(self, params: JSON) -> JSON:
        chat = self._chat_for(params)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        chat = self._chat_for(params)
        if chat["type"] == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        return copy.deepcopy(self._administrators_of(chat["id"]))

    def _get_chat_member(self, params: JSON) -> JSON:
        chat = self._chat_for(params)
        user_id = _int_param(params, "user_id")
        if user_id is None:
            raise ApiError(400, "Bad Request: user_id is empty")
        if chat["type"] != "private":
            for member in self._administrators_of(chat["id"]):
                if member.get("user", {}).get("id") == user_id:
                    return copy.deepcopy(member)
        user = self.bot_user if user_id == self.bot_id else self._user(user_id)
        return {"status": "member", "user": dict(user)}

    def _leave_chat(self, params: JSON) -> bool:
        chat = self._chat_for(params)
        if chat["type"] == "private":
            raise ApiError(
                400, "Bad Request: chat member status can't be changed in private chats"
            )
        self.left_chats.add(int(chat["id"]))
        return True

    # ---------------------------------------------------------------- internals

    async def _record(self, call: Call) -> None:
        async with self._calls_changed:
            self.calls.append(call)
            self._calls_changed.notify_all()

    def _raise_injected_failure(self, method: str) -> None:
        queue = self._failures.get(method.lower())
        if not queue:
            return
        failure = queue.popleft()
        parameters = (
            {"retry_after": failure.retry_after} if failure.retry_after is not None else None
        )
        raise ApiError(failure.status, failure.description, parameters)

    def _wake_pollers(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop yet: the next getUpdates sees the queue anyway
            return
        task = loop.create_task(self._notify_pollers())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify_pollers(self) -> None:
        async with self._updates_changed:
            self._updates_changed.notify_all()

    def _is_allowed(self, update: JSON) -> bool:
        if not self._allowed_updates:
            return True
        return any(kind in update for kind in self._allowed_updates)

    @staticmethod
    def _matches(predicate: Callable[[JSON], bool], params: JSON) -> bool:
        try:
            return bool(predicate(params))
        except (KeyError, TypeError, IndexError, AttributeError):
            return False

    def _timeout_report(
        self, method: str, predicate: Callable[[JSON], bool] | None, timeout: float
    ) -> str:
        what = f"{method!r}" + (" matching the predicate" if predicate else "")
        lines = [
            f"FakeBotApi.wait_for: no unconsumed call of {what} within {timeout}s. "
            f"Calls seen ({len(self.calls)}; * = already consumed):"
        ]
        polls = 0
        for index, call in enumerate(self.calls):
            if call.method == "getUpdates" and call.ok and not call.result:
                polls += 1
                continue
            if polls:
                lines.append(f"       ... {polls} empty getUpdates")
                polls = 0
            mark = "*" if call.consumed else " "
            outcome = str(call.status) if call.ok else f"{call.status} {call.description}"
            lines.append(f"  {index:>3}{mark} {call.method} {_short(call.params)} -> {outcome}")
        if polls:
            lines.append(f"       ... {polls} empty getUpdates")
        if not self.calls:
            lines.append("  (none)")
        if self.internal_errors:
            lines.append(f"FAKE internal errors: {self.internal_errors!r}")
        return "\n".join(lines)

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def _remember(self, message: JSON) -> None:
        chat = message.get("chat")
        if not isinstance(chat, dict) or "message_id" not in message:
            return
        chat_id = int(chat["id"])
        if chat_id not in self.chats:
            self.chats[chat_id] = copy.deepcopy(chat)
        sender = message.get("from")
        if isinstance(sender, dict) and not sender.get("is_bot"):
            self.users.setdefault(int(sender["id"]), copy.deepcopy(sender))
        message_id = int(message["message_id"])
        self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), message_id)
        self._messages[(chat_id, message_id)] = copy.deepcopy(message)

    def _user(
        self, user_id: int, first_name: str | None = None, username: str | None = None
    ) -> JSON:
        user = self.users.get(user_id)
        if user is None:
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"User{user_id}",
                "language_code": "en",
            }
            self.users[user_id] = user
        if first_name:
            user["first_name"] = first_name
        if username:
            user["username"] = username
        return copy.deepcopy(user)

    @staticmethod
    def _default_chat(chat_id: int | None, chat_type: str, user_id: int) -> int:
        if chat_id is not None:
            return chat_id
        if chat_type == "private":
            return user_id
        return DEFAULT_CHANNEL_ID if chat_type == "channel" else DEFAULT_GROUP_ID

    @staticmethod
    def _unwrap(message: JSON) -> JSON:
        """Accept a message dict or an update dict holding one."""
        if "message_id" in message:
            return message
        for kind in UPDATE_KINDS:
            inner = message.get(kind)
            if isinstance(inner, dict):
                return inner["message"] if kind == "callback_query" else inner
        raise ValueError(f"not a message or a message update: {_short(message)}")

    @staticmethod
    def _entities_field(name: str, text: str, entities: list[JSON] | None) -> JSON:
        found = detect_entities(text) if entities is None else entities
        return {name: found} if found else {}

    def _user_message(
        self,
        content: JSON,
        *,
        chat_id: int,
        chat_type: str,
        user_id: int,
        first_name: str,
        username: str | None = None,
        title: str | None = None,
        is_forum: bool | None = None,
        message_thread_id: int | None = None,
        reply_to_message: JSON | None = None,
    ) -> JSON:
        user = self._user(user_id, first_name, username)
        if chat_type == "private":
            chat = self.add_chat(chat_id, "private", first_name=first_name, username=username)
        else:
            known = chat_id in self.chats and self.chats[chat_id]["type"] == chat_type
            chat = self.add_chat(
                chat_id,
                chat_type,
                title=title or (None if known else "Test Group"),
                is_forum=is_forum,
            )
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        if reply_to_message is not None:
            replied = copy.deepcopy(self._unwrap(reply_to_message))
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        return self.push_update({"message": message})

    def _chat_for(self, params: JSON) -> JSON:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self.chats.values():
                if chat.get("username", "").lower() == raw[1:].lower():
                    return copy.deepcopy(chat)
            raise ApiError(400, "Bad Request: chat not found")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id not in self.chats:
            if self.strict_chats or chat_id == 0:
                raise ApiError(400, "Bad Request: chat not found")
            self.add_chat(chat_id, "private" if chat_id > 0 else "supergroup")
        return copy.deepcopy(self.chats[chat_id])

    def _message_to_edit(self, params: JSON) -> JSON:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: FAKE does not support inline messages")
        chat = self._chat_for(params)
        message_id = _int_param(params, "message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._messages.get((chat["id"], message_id))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _format(self, text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
        mode = str(parse_mode or "").lower()
        if mode == "html":
            try:
                text, parsed = parse_html(text, strict=self.strict_html)
            except HtmlParseError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):  # Markdown is passed through unparsed
            parsed = list(entities) if isinstance(entities, list) else []
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return text, parsed

    @staticmethod
    def _inline_markup(markup: Any) -> JSON | None:
        """Validate reply_markup; return it only if it is an inline keyboard (P8)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button")
                data = button.get("callback_data")
                if data is not None and not (
                    0 < len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return copy.deepcopy(markup)

    def _reply_target(self, chat: JSON, params: JSON) -> tuple[JSON | None, JSON | None]:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            target_chat = reply.get("chat_id", chat["id"])
            allow_missing = bool(reply.get("allow_sending_without_reply"))
            quote = reply.get("quote")
        else:
            message_id = _int_param(params, "reply_to_message_id")
            target_chat = chat["id"]
            allow_missing = bool(params.get("allow_sending_without_reply"))
            quote = None
        if message_id is None:
            return None, None
        if target_chat != chat["id"]:
            target_chat = self._chat_for({"chat_id": target_chat})["id"]
        stored = self._messages.get((int(target_chat), int(message_id)))
        if stored is None:
            if allow_missing:
                return None, None
            raise ApiError(400, "Bad Request: message to be replied not found")
        replied = copy.deepcopy(stored)
        replied.pop("reply_to_message", None)
        quote_json: JSON | None = None
        if quote:
            source = str(stored.get("text") or stored.get("caption") or "")
            position = source.find(str(quote))
            if position < 0:
                raise ApiError(400, "Bad Request: QUOTE_TEXT_INVALID")
            quote_json = {
                "text": str(quote),
                "position": utf16_len(source[:position]),
                "is_manual": True,
            }
        return replied, quote_json

    @staticmethod
    def _set_optional(target: JSON, key: str, value: Any) -> None:
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value

    @staticmethod
    def _commands_key(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or ""
        return json.dumps([scope, language], sort_keys=True)

    def _owner(self, user_id: int) -> JSON:
        return {"status": "creator", "user": self._user(user_id), "is_anonymous": False}

    def _administrator(self, user_id: int) -> JSON:
        user = self.bot_user if user_id == self.bot_id else self._user(user_id)
        return {
            "status": "administrator",
            "user": dict(user),
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_pin_messages": True,
            "can_manage_topics": False,
        }

    def _administrators_of(self, chat_id: int) -> list[JSON]:
        if chat_id not in self._administrators:
            self._administrators[chat_id] = [self._owner(1)]
        return self._administrators[chat_id]
