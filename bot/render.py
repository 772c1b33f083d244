"""Telegram HTML for answers and listings: everything escaped, split under the length limit
without breaking a tag, an entity or a citation marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import ENGLISH, Messages
from retrieval.models import NOT_EXACTLY, Answer, Briefing, BriefingPoint, Citation, Manifest

MESSAGE_LIMIT = 4096


def utf16_length(text: str) -> int:
    """Telegram measures text in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Escaped pieces of plain text, each at most `limit` long once escaped, cut at spaces
    (sentence ends first); a word longer than the limit is cut hard."""
    pieces: list[str] = []
    current = ""
    for token in re.findall(r"\S+\s*", text):
        while utf16_length(escape(token, quote=False)) > limit:  # one huge word
            head = token[: limit // 6]  # escaping grows a character to at most 6
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
            token = token[len(head) :]
        if current and utf16_length(escape(current + token, quote=False)) > limit:
            pieces.append(current)
            current = ""
        current += token
    if current:
        pieces.append(current)
    return [escape(piece.strip(), quote=False) for piece in pieces if piece.strip()]


def _fitting(block: str, limit: int) -> list[str]:
    """A block over the limit as its lines (each line of our blocks closes its own tags); a
    single line over the limit, which only plain escaped text can be, cut short."""
    if utf16_length(block) <= limit:
        return [block]
    return [
        line if utf16_length(line) <= limit else line[: limit // 2].rsplit("&", 1)[0] + "\u2026"
        for line in block.split("\n")
    ]


def pack(blocks: list[str], limit: int = MESSAGE_LIMIT, separator: str = "\n\n") -> list[str]:
    """HTML blocks packed greedily into messages under the limit; a block never splits
    inside a line."""
    messages: list[str] = []
    current = ""
    for block in (piece for whole in blocks for piece in _fitting(whole, limit)):
        candidate = f"{current}{separator}{block}" if current else block
        if current and utf16_length(candidate) > limit:
            messages.append(current)
            candidate = block
        current = candidate
    if current:
        messages.append(current)
    return messages


def _citation_blocks(citation: Citation, show_quote: bool, limit: int) -> list[str]:
    where = escape(citation.title, quote=False)
    if citation.section:
        where += f" \u2014 <i>{escape(citation.section, quote=False)}</i>"
    if citation.date:
        where += f" \u00b7 {escape(citation.date)}"
    header = f"<b>[{citation.n}]</b> {where}"
    if not show_quote:
        return [header]
    wrapper = len("<blockquote expandable></blockquote>") + utf16_length(header) + 1
    quotes = split_text(citation.quote, limit - wrapper)
    return [
        (header + "\n" if index == 0 else "") + f"<blockquote expandable>{quote}</blockquote>"
        for index, quote in enumerate(quotes)
    ]


@dataclass(frozen=True, slots=True)
class RenderedAnswer:
    """The messages of one answer; buttons go under the last one."""

    parts: list[str]
    # When the sources fit in the last message in both views, the Sources button can switch
    # between them by editing that one message.
    togglable: bool


def _read_as(read_as: tuple[tuple[str, str], ...], messages: Messages) -> str:
    """Which misspelt words the documents were searched for as others, so a wrong guess shows."""
    return "\n".join(
        f"<i>{escape(messages.get('read_as', typed=typed, read=read), quote=False)}</i>"
        for typed, read in read_as
    )


def _answer_blocks(answer: Answer, limit: int, messages: Messages) -> list[str]:
    # An answer, or "the documents don't say this exactly" with the closest passage cited.
    if answer.grounded or answer.citations:
        text = answer.text
        if text.startswith(NOT_EXACTLY):  # retrieval's English label before a verbatim quote
            text = messages.get("not_exactly") + text[len(NOT_EXACTLY) :]
        return split_text(text, limit)
    lines = [f"<b>{escape(messages.get('not_covered'), quote=False)}</b>"]
    if answer.suggestions:
        lines.append(messages.get("closest_documents"))
        lines += [f"\u2022 {escape(title, quote=False)}" for title in answer.suggestions]
    # "What is this about?" asks for no fact a passage holds: a briefing is what answers it.
    lines.append(escape(messages.get("overview_hint"), quote=False))
    return ["\n".join(lines)]


def render_answer(
    answer: Answer,
    show_quotes: bool,
    limit: int = MESSAGE_LIMIT,
    messages: Messages = ENGLISH,
) -> RenderedAnswer:
    body = pack(_answer_blocks(answer, limit, messages), limit, separator=" ")
    if answer.read_as:  # on a line of its own above the answer
        body = pack([_read_as(answer.read_as, messages), *body], limit, separator="\n")
    if not answer.citations:
        return RenderedAnswer(body, togglable=False)

    def sources(show: bool) -> list[str]:
        blocks = [f"<b>{messages.get('sources_heading')}</b>"]
        for citation in answer.citations:
            blocks += _citation_blocks(citation, show, limit)
        return pack(blocks, limit, separator="\n")

    shown, hidden = sources(True), sources(False)
    # One layout for both views, chosen by the larger one, so a toggle edits one message.
    together = (
        len(body) == 1 and len(shown) == 1 and utf16_length(body[0] + "\n\n" + shown[0]) <= limit
    )
    chosen = shown if show_quotes else hidden
    parts = [body[0] + "\n\n" + chosen[0]] if together else body + chosen
    return RenderedAnswer(parts, togglable=len(shown) == 1)


def answer_keyboard(
    answer_id: str, showing_quotes: bool, togglable: bool, messages: Messages = ENGLISH
) -> InlineKeyboardMarkup:
    """Sources toggle and feedback; callback data stays far under Telegram's 64 bytes."""
    row = []
    if togglable:
        label = messages.get("hide_quotes" if showing_quotes else "show_quotes")
        row.append(
            InlineKeyboardButton(label, callback_data=f"q:{answer_id}:{int(not showing_quotes)}")
        )
    row.append(InlineKeyboardButton("\U0001f44d", callback_data=f"v:{answer_id}:up"))
    row.append(InlineKeyboardButton("\U0001f44e", callback_data=f"v:{answer_id}:down"))
    return InlineKeyboardMarkup([row])


def render_sources(manifest: Manifest, messages: Messages = ENGLISH) -> list[str]:
    """The /sources listing: documents with dates and sections."""
    blocks = [
        messages.get(
            "sources_listing",
            count=len(manifest.documents),
            version=manifest.version,
            built=escape(manifest.created_at),
        )
    ]
    for document in manifest.documents:
        lines = [f"<b>{escape(document.title, quote=False)}</b>"]
        date = escape(document.date or messages.get("date_not_stated"))
        lines.append(f"{date} \u00b7 {messages.get('passages', count=document.chunks)}")
        lines += [f"\u2022 {escape(section, quote=False)}" for section in document.sections]
        blocks.append("\n".join(lines))
    return pack(blocks)


def render_welcome(
    manifest: Manifest, examples: list[str], bot_username: str, messages: Messages = ENGLISH
) -> str:
    titles = [f"\u2022 {escape(doc.title, quote=False)}" for doc in manifest.documents[:10]]
    more = len(manifest.documents) - 10
    if more > 0:
        titles.append(messages.get("welcome_more", count=more))
    lines = [
        messages.get("welcome_intro"),
        *titles,
        "",
        messages.get("welcome_examples"),
        *(f"\u2022 <i>{escape(example, quote=False)}</i>" for example in examples),
        "",
        messages.get("welcome_groups", username=escape(bot_username)),
    ]
    return "\n".join(lines)


# The English texts, which the tests compare replies with.
NON_TEXT_HINT = ENGLISH.get("non_text_hint")
EDITED_HINT = ENGLISH.get("edited_hint")
NOT_ALLOWED = ENGLISH.get("not_allowed")
GROUP_NOT_ALLOWED = ENGLISH.get("group_not_allowed", chat_id="{chat_id}")
QUEUE_FULL = ENGLISH.get("queue_full")


def render_briefing(briefing: Briefing, messages: Messages = ENGLISH) -> list[str]:
    """A briefing as Telegram HTML: bottom line, key points, positions, open questions, sources."""
    subject = (
        escape(briefing.topic, quote=False) if briefing.topic else messages.get("all_documents")
    )
    header = messages.get("briefing_heading", subject=subject, version=briefing.version)
    if briefing.read_as:
        header += "\n" + _read_as(briefing.read_as, messages)
    if briefing.bottom_line is None:
        return [f"{header}\n{escape(messages.get('not_covered'), quote=False)}"]

    def line(point: BriefingPoint) -> str:
        return f"{escape(point.text, quote=False)} [{point.citation.n}]"

    blocks = [header, f"<b>{messages.get('bottom_line')}</b>\n{line(briefing.bottom_line)}"]
    for title, points in (
        ("key_points", briefing.key_points),
        ("positions", briefing.positions),
        ("unclear", briefing.unclear),
    ):
        if points:
            blocks.append(
                f"<b>{messages.get(title)}</b>\n" + "\n".join(f"\u2022 {line(p)}" for p in points)
            )
    sources = [f"<b>{messages.get('sources_heading')}</b>"]
    for citation in briefing.citations:
        sources += _citation_blocks(citation, show_quote=False, limit=MESSAGE_LIMIT)
    blocks.append("\n".join(sources))
    return pack(blocks)
