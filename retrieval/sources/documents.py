"""Reading source files into documents with title, date and sections, and cutting passages.

Offsets are character offsets into the file's text exactly as decoded from its bytes (no
newline translation), so a quote can always be checked against the file later.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from pathlib import Path

from retrieval.errors import DocumentError
from retrieval.models import Passage, Section, SourceDocument, Span
from retrieval.text import MONTHS, is_hard_wrapped, split_long, split_sentences, strip_span

SUPPORTED_SUFFIXES = (".txt", ".md")
LEAD_SECTION = "Introduction"

_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_MARKDOWN_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = [
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})\b", re.IGNORECASE),
    re.compile(r"\b(?P<day>\d{1,2})\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.IGNORECASE),
]
_TITLE_LIMIT = 90
# "January 6, 2024—" or "6 January 2024 - " at the start of a lead sentence.
_DATELINE = re.compile(
    r"^\W*(?:[A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[A-Z][a-z]+\s+\d{4})\s*[\u2014\u2013-]+\s*"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode_source(data: bytes) -> str:
    """Decode a source file's bytes, or raise DocumentError saying why it is not usable text."""
    if b"\x00" in data[:8192]:
        raise DocumentError("is a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None
    if not text.strip():
        raise DocumentError("is empty")
    return text


def read_source_text(path: Path, max_bytes: int) -> str:
    """The text of a source file, checked for size, encoding and content."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # never more, even if the file grows meanwhile
    except OSError as error:
        raise DocumentError(f"cannot be read ({error.strerror or error})") from None
    if len(data) > max_bytes:
        raise DocumentError(f"is over the size limit of {max_bytes:,} bytes")
    return decode_source(data)


def _front_matter(text: str, start: int) -> tuple[dict[str, str], int]:
    """`key: value` lines between `---` lines at the top; anything else there is body text
    (a Markdown horizontal rule, say)."""
    match = _FRONT_MATTER.match(text, start)
    if not match:
        return {}, start
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, separator, value = line.partition(":")
        if not line.strip():
            continue
        if not separator or not re.fullmatch(r"[\w-]+", key.strip()):
            return {}, start
        fields[key.strip().lower()] = value.strip().strip("\"'")
    return fields, match.end()


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


def _heading_text(
    text: str, line: Span, neighbours: tuple[Span | None, Span | None], hard_wrapped: bool
) -> str | None:
    """The heading a line stands for, or None if it is body text.

    Markdown headings count anywhere. A bare heading is a short line without final
    punctuation, followed by a longer line of body text (the seed's style); in hard-wrapped
    text it must also stand alone between blank lines, or it is just a wrapped line.
    """
    previous_line, next_line = neighbours
    content = line.of(text)
    markdown = _MARKDOWN_HEADING.match(content)
    if markdown:
        return markdown.group(1).strip()
    stripped = content.strip()
    if (
        len(stripped) > 80
        or len(stripped.split()) > 12
        or stripped[-1] in ".!?,;:\u2026\"'\u201d\u2019)"
        or not (stripped[0].isupper() or stripped[0].isdigit())
        or stripped.startswith(("-", "*", "\u2022"))
    ):
        return None
    if next_line is None or _MARKDOWN_HEADING.match(next_line.of(text)):
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
    title = fields.get("title") or None
    content_start = body_start
    headings: list[tuple[str, Span]] = []
    for index, line in enumerate(lines):
        neighbours = (
            lines[index - 1] if index > 0 else None,
            lines[index + 1] if index + 1 < len(lines) else None,
        )
        heading = _heading_text(text, line, neighbours, hard_wrapped)
        if heading is None:
            continue
        if index == 0 and title is None:
            title = heading  # a heading before any body text names the document
            content_start = line.end
        else:
            headings.append((heading, line))
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
        raise DocumentError("has headings but no body text")
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
