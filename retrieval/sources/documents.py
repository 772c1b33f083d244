"""Reading source files into documents with title, date and sections, and cutting passages.

Offsets are character offsets into the file's text exactly as decoded from its bytes (no
newline translation), so a quote can always be checked against the file later.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from retrieval.errors import DocumentError
from retrieval.models import Passage, Section, SourceDocument, Span
from retrieval.text import MONTHS, is_hard_wrapped, split_long, split_sentences, strip_span

SUPPORTED_SUFFIXES = (".txt", ".md")
LEAD_SECTION = "Introduction"

_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# What markdown-it counts as a line break (it splits lines after normalising these to "\n").
_MARKDOWN_NEWLINE = re.compile(r"\r\n?|\n")
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"  # "6th January", "January 6th"
_DATE_PATTERNS = [
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
    re.compile(
        _MONTH + r"\s+(?P<day>\d{1,2})" + _ORDINAL + r",?\s+(?P<year>\d{4})\b", re.IGNORECASE
    ),
    re.compile(
        r"\b(?P<day>\d{1,2})" + _ORDINAL + r"\s+(?:of\s+)?" + _MONTH + r",?\s+(?P<year>\d{4})\b",
        re.IGNORECASE,
    ),
]
_TITLE_LIMIT = 90
# A setext heading ("Title" over "===") is one short line; a longer paragraph over "---" is
# text above a rule in a plain-text file, and taking it for a heading would drop it.
_SETEXT_LIMIT = 120
# "January 6, 2024—" or "6th January 2024 - " at the start of a lead sentence.
_DATELINE = re.compile(
    r"^\W*(?:[A-Z][a-z]+\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Z][a-z]+\s+\d{4})\s*[\u2014\u2013-]+\s*"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode_source(data: bytes) -> str:
    """Decode a source file's bytes, or raise DocumentError saying why it is not usable text."""
    if b"\x00" in data[:8192]:
        raise DocumentError("is a binary file, not text", "binary")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
            "not_utf8",
            byte=data[error.start],
            offset=error.start,
        ) from None
    if not text.strip():
        raise DocumentError("is empty", "empty")
    return text


def read_source_text(path: Path, max_bytes: int) -> str:
    """The text of a source file, checked for size, encoding and content."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # never more, even if the file grows meanwhile
    except OSError as error:
        detail = str(error.strerror or error)
        raise DocumentError(f"cannot be read ({detail})", "read_failed", detail=detail) from None
    if len(data) > max_bytes:
        raise DocumentError(
            f"is over the size limit of {max_bytes:,} bytes", "too_big", max_bytes=max_bytes
        )
    return decode_source(data)


def _front_matter(text: str, start: int) -> tuple[dict[str, str], int]:
    """The scalar fields of a YAML block between `---` lines at the top (lists such as
    `tags:` are read and left out). A block YAML refuses is still front matter when every
    line is `key: value` ("title: Budget: the brief" is common); anything else there is
    body text (a Markdown horizontal rule, say)."""
    match = _FRONT_MATTER.match(text, start)
    if not match:
        return {}, start
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        data = _key_value_lines(match.group(1))
    if not isinstance(data, dict):
        return {}, start
    fields = {
        str(key).strip().lower(): scalar
        for key, value in data.items()
        if (scalar := _scalar(value)) is not None
    }
    return fields, match.end()


def _key_value_lines(block: str) -> dict[str, str] | None:
    fields: dict[str, str] = {}
    for line in block.splitlines():
        key, separator, value = line.partition(":")
        if not line.strip():
            continue
        if not separator or not re.fullmatch(r"[\w-]+", key.strip()):
            return None
        fields[key.strip()] = value.strip().strip("\"'")
    return fields


def _scalar(value: object) -> str | None:
    """A front-matter value as text; None for what is no single value (a list, a map)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def find_date(text: str) -> str | None:
    """The first calendar date stated in the text, as yyyy-mm-dd."""
    found: list[tuple[int, str]] = []
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        parts = match.groupdict()
        month = int(parts["mnum"]) if parts.get("mnum") else MONTHS[parts["month"].lower()]
        try:
            found.append(
                (match.start(), date(int(parts["year"]), month, int(parts["day"])).isoformat())
            )
        except ValueError:
            continue
    return min(found)[1] if found else None


def _parse_date(value: str) -> str | None:
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        return find_date(value)


@dataclass(frozen=True, slots=True)
class _Markdown:
    """What markdown-it finds in the body: headings by the offset of their first line (with
    the span through a setext underline), and where fenced code lies."""

    headings: dict[int, tuple[str, Span]]
    code: list[Span]  # in order, never overlapping

    def in_code(self, position: int) -> bool:
        index = bisect.bisect_right(self.code, position, key=lambda block: block.start) - 1
        return index >= 0 and position < self.code[index].end


@lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark")
    parser.disable("inline")  # block structure is all we read; headings keep raw content
    return parser


def _markdown(text: str, start: int) -> _Markdown:
    body = text[start:]
    line_starts = [start] + [start + match.end() for match in _MARKDOWN_NEWLINE.finditer(body)]

    def span(first: int, end: int) -> Span | None:
        stop = line_starts[end] if end < len(line_starts) else len(text)
        return strip_span(text, Span(line_starts[first], stop))

    headings: dict[int, tuple[str, Span]] = {}
    code: list[Span] = []
    tokens = _markdown_parser().parse(body)
    for index, token in enumerate(tokens):
        if token.map is None:
            continue
        first, end = token.map
        if token.type == "fence" and (block := span(first, end)) is not None:
            code.append(block)
        if token.type != "heading_open":
            continue
        title = " ".join(tokens[index + 1].content.split())
        setext = token.markup in ("=", "-")
        if not title or (setext and (end - first > 2 or len(title) > _SETEXT_LIMIT)):
            continue
        if (heading := span(first, end)) is not None:
            headings[heading.start] = (title, heading)
    return _Markdown(headings, code)


def _bare_heading(
    text: str,
    line: Span,
    neighbours: tuple[Span | None, Span | None],
    hard_wrapped: bool,
    markdown: _Markdown,
) -> str | None:
    """The heading a line without Markdown markup stands for, or None if it is body text.

    A bare heading is a short line without final punctuation, followed by a longer line of
    body text (the seed's style); in hard-wrapped text it must also stand alone between
    blank lines, or it is just a wrapped line.
    """
    previous_line, next_line = neighbours
    stripped = line.of(text).strip()
    if (
        len(stripped) > 80
        or len(stripped.split()) > 12
        or stripped[-1] in ".!?,;:\u2026\"'\u201d\u2019)"
        or not (stripped[0].isupper() or stripped[0].isdigit())
        or stripped.startswith(("-", "*", "\u2022"))
    ):
        return None
    if next_line is None or next_line.start in markdown.headings:
        return None
    if hard_wrapped and not (
        text.count("\n", previous_line.end if previous_line else 0, line.start) != 1
        and text.count("\n", line.end, next_line.start) > 1
    ):
        return None
    return stripped if len(next_line.of(text).strip()) > len(stripped) else None


def _lines(text: str, start: int) -> list[Span]:
    spans = []
    position = start
    for raw in text[start:].splitlines(keepends=True):
        span = strip_span(text, Span(position, position + len(raw)))
        if span is not None:
            spans.append(span)
        position += len(raw)
    return spans


def _fallback_title(text: str, body_start: int, path: Path) -> str:
    """A title from the lead sentence (without a leading dateline), else the file name."""
    sentences = split_sentences(text, body_start, hard_wrapped=is_hard_wrapped(text))
    if not sentences:
        return path.stem
    lead = _DATELINE.sub("", sentences[0].of(text)).rstrip(".")
    if len(lead) <= _TITLE_LIMIT:
        return lead
    cut = lead.rfind(" ", 0, _TITLE_LIMIT)
    return lead[: cut if cut > 0 else _TITLE_LIMIT].rstrip(",;: ") + "\u2026"


def parse_document(path: Path, doc_id: str, text: str) -> SourceDocument:
    """Find the title, date and sections of a document's text."""
    # A byte-order mark stays in the text (offsets must match the file) but starts nothing.
    fields, body_start = _front_matter(text, 1 if text.startswith("\ufeff") else 0)
    lines = _lines(text, body_start)
    hard_wrapped = is_hard_wrapped(text[body_start:])
    markdown = _markdown(text, body_start)
    title = fields.get("title") or None
    content_start = body_start
    headings: list[tuple[str, Span]] = []
    inside = 0  # the end of the heading being read: its setext underline is no line of its own
    for index, line in enumerate(lines):
        if line.start < inside or markdown.in_code(line.start):
            continue
        if line.start in markdown.headings:
            heading, span = markdown.headings[line.start]
        else:
            neighbours = (
                lines[index - 1] if index > 0 else None,
                lines[index + 1] if index + 1 < len(lines) else None,
            )
            bare = _bare_heading(text, line, neighbours, hard_wrapped, markdown)
            if bare is None:
                continue
            heading, span = bare, line
        inside = span.end
        if index == 0 and title is None:
            title = heading  # a heading before any body text names the document
            content_start = span.end
        else:
            headings.append((heading, span))
    sections: list[Section] = []
    lead_end = headings[0][1].start if headings else len(text)
    lead = strip_span(text, Span(content_start, lead_end))
    if lead is not None:
        sections.append(Section(LEAD_SECTION if headings else "", lead))
    for index, (heading, line) in enumerate(headings):
        body_end = headings[index + 1][1].start if index + 1 < len(headings) else len(text)
        body = strip_span(text, Span(line.end, body_end))
        if body is not None:
            sections.append(Section(heading, body))
    if not sections:
        raise DocumentError("has headings but no body text", "no_body_text")
    stated_date = _parse_date(fields["date"]) if fields.get("date") else None
    return SourceDocument(
        doc_id=doc_id,
        path=path,
        title=title or _fallback_title(text, content_start, path),
        date=stated_date or find_date(text[content_start : content_start + 400]),
        text=text,
        sections=tuple(sections),
        content_hash=sha256(text),
        hard_wrapped=hard_wrapped,
    )


def cut_passages(document: SourceDocument, max_chars: int) -> list[Passage]:
    """Pack whole sentences into passages of at most `max_chars`, never across a section."""
    text = document.text
    passages: list[Passage] = []
    for section in document.sections:
        sentences = [
            piece
            for sentence in split_sentences(
                text, section.body.start, section.body.end, document.hard_wrapped
            )
            for piece in split_long(text, sentence, max_chars)
        ]
        group: list[Span] = []
        for sentence in sentences:
            if group and sentence.end - group[0].start > max_chars:
                passages.append(_passage(document, section, group, len(passages)))
                group = []
            group.append(sentence)
        if group:
            passages.append(_passage(document, section, group, len(passages)))
    return passages


def _passage(document: SourceDocument, section: Section, group: list[Span], index: int) -> Passage:
    start, end = group[0].start, group[-1].end
    passage_text = document.text[start:end]
    content_hash = sha256(passage_text)
    return Passage(
        chunk_id=sha256(f"{document.doc_id}\x00{start}\x00{end}\x00{content_hash}")[:32],
        doc_id=document.doc_id,
        file_name=document.file_name,
        title=document.title,
        date=document.date,
        section=section.title,
        chunk_index=index,
        start=start,
        end=end,
        text=passage_text,
        content_hash=content_hash,
        sentences=tuple(group),
    )


def discover_sources(sources_dir: Path) -> list[Path]:
    """The supported files under the sources dir, in a stable order; hidden files skipped,
    and so is a link to anything outside the sources dir (it would publish that file)."""
    if not sources_dir.is_dir():
        return []
    root = sources_dir.resolve()
    return sorted(
        path
        for path in sources_dir.rglob("*")
        if path.suffix.lower() in SUPPORTED_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(sources_dir).parts)
        and path.resolve().is_relative_to(root)
    )


def sources_signature(sources_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """What a watcher compares to notice a change: each source's path, size and mtime."""
    signature = []
    for path in discover_sources(sources_dir):
        try:
            stat = path.stat()
        except OSError:  # removed between listing and stat: the next look sees it gone
            continue
        signature.append((path.as_posix(), stat.st_size, stat.st_mtime_ns))
    return tuple(signature)
