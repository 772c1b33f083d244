"""Telegram HTML for answers and listings: everything escaped, split under the length limit
without breaking a tag, an entity or a citation marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from retrieval.models import NOT_COVERED, Answer, Briefing, BriefingPoint, Citation, Manifest

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


def _answer_blocks(answer: Answer, limit: int) -> list[str]:
    # An answer, or "the documents don't say this exactly" with the closest passage cited.
    if answer.grounded or answer.citations:
        return split_text(answer.text, limit)
    lines = [f"<b>{escape(NOT_COVERED, quote=False)}</b>"]
    if answer.suggestions:
        lines.append("Closest documents, if you want to rephrase:")
        lines += [f"\u2022 {escape(title, quote=False)}" for title in answer.suggestions]
    return ["\n".join(lines)]


def render_answer(answer: Answer, show_quotes: bool, limit: int = MESSAGE_LIMIT) -> RenderedAnswer:
    body = pack(_answer_blocks(answer, limit), limit, separator=" ")
    if not answer.citations:
        return RenderedAnswer(body, togglable=False)

    def sources(show: bool) -> list[str]:
        blocks = ["<b>Sources</b>"]
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


def answer_keyboard(answer_id: str, showing_quotes: bool, togglable: bool) -> InlineKeyboardMarkup:
    """Sources toggle and feedback; callback data stays far under Telegram's 64 bytes."""
    row = []
    if togglable:
        label = "Hide quotes" if showing_quotes else "Show quotes"
        row.append(
            InlineKeyboardButton(label, callback_data=f"q:{answer_id}:{int(not showing_quotes)}")
        )
    row.append(InlineKeyboardButton("\U0001f44d", callback_data=f"v:{answer_id}:up"))
    row.append(InlineKeyboardButton("\U0001f44e", callback_data=f"v:{answer_id}:down"))
    return InlineKeyboardMarkup([row])


def render_sources(manifest: Manifest) -> list[str]:
    """The /sources listing: documents with dates and sections."""
    blocks = [
        f"<b>{len(manifest.documents)} documents</b> (index v{manifest.version}, "
        f"built {escape(manifest.created_at)})"
    ]
    for document in manifest.documents:
        lines = [f"<b>{escape(document.title, quote=False)}</b>"]
        lines.append(
            f"{escape(document.date or 'date not stated')} \u00b7 {document.chunks} passages"
        )
        lines += [f"\u2022 {escape(section, quote=False)}" for section in document.sections]
        blocks.append("\n".join(lines))
    return pack(blocks)


def render_welcome(manifest: Manifest, examples: list[str], bot_username: str) -> str:
    titles = [f"\u2022 {escape(doc.title, quote=False)}" for doc in manifest.documents[:10]]
    more = len(manifest.documents) - 10
    if more > 0:
        titles.append(f"\u2026 and {more} more (/sources)")
    lines = [
        "I answer questions about these documents and cite the passages I used:",
        *titles,
        "",
        "Ask me anything about them, for example:",
        *(f"\u2022 <i>{escape(example, quote=False)}</i>" for example in examples),
        "",
        f"In groups, mention me (@{escape(bot_username)}), reply to my answer, or use /ask.",
    ]
    return "\n".join(lines)


HELP = (
    "<b>How to ask</b>\n"
    "Send me a question in this chat, or use /ask <i>question</i>. In a group, mention me, "
    "reply to one of my answers, or use /ask.\n\n"
    "Every answer cites its sources [n]; tap <i>Show quotes</i> to see the exact passages, "
    "and \U0001f44d/\U0001f44e to tell us whether it helped. When the documents don't say, "
    "I tell you instead of guessing.\n\n"
    "/brief [topic] \u2014 a cited briefing\n"
    "/whatsnew \u2014 what changed since the last briefing here\n"
    "/subscribe daily 08:00 [topic] \u2014 scheduled briefings (/subscriptions, /unsubscribe, "
    "/timezone)\n"
    "/sources \u2014 the documents I know\n"
    "/reset \u2014 forget our conversation\n"
    "/help \u2014 this message"
)
NON_TEXT_HINT = "I can only read text. Send me your question as a message."
EDITED_HINT = "I answer new messages only; please send the corrected question again."
NOT_ALLOWED = "Sorry, this bot is private: its operator has not allowed your account."
GROUP_NOT_ALLOWED = (
    "Sorry, this bot only works in the groups its operator allows, so I am leaving. "
    "(To allow this group, add {chat_id} to BRIEFBOT_ALLOWED_CHAT_IDS.)"
)
QUEUE_FULL = (
    "I still have several of your messages to answer, so I skipped the newest ones. "
    "Please wait for my replies, then ask again."
)


def render_slow_down(seconds: int) -> str:
    return f"You are asking faster than I can answer well. Please try again in {seconds} s."


def render_briefing(briefing: Briefing) -> list[str]:
    """A briefing as Telegram HTML: bottom line, key points, positions, open questions, sources."""
    subject = escape(briefing.topic, quote=False) if briefing.topic else "all documents"
    header = f"<b>Briefing: {subject}</b> (index v{briefing.version})"
    if briefing.bottom_line is None:
        return [f"{header}\n{escape(NOT_COVERED, quote=False)}"]

    def line(point: BriefingPoint) -> str:
        return f"{escape(point.text, quote=False)} [{point.citation.n}]"

    blocks = [header, f"<b>Bottom line</b>\n{line(briefing.bottom_line)}"]
    for title, points in (
        ("Key points", briefing.key_points),
        ("Positions", briefing.positions),
        ("Unclear or disputed", briefing.unclear),
    ):
        if points:
            blocks.append(f"<b>{title}</b>\n" + "\n".join(f"\u2022 {line(p)}" for p in points))
    sources = ["<b>Sources</b>"]
    for citation in briefing.citations:
        sources += _citation_blocks(citation, show_quote=False, limit=MESSAGE_LIMIT)
    blocks.append("\n".join(sources))
    return pack(blocks)
