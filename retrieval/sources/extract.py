"""Turning an uploaded document (text, Markdown, PDF, HTML or DOCX) into Markdown source text.

`extract` checks that a file really is what its name says, pulls out its text and returns it
as Markdown ready to be saved as a `.md` source file: `# Title` first when a title is known,
`## Heading` for sections, paragraphs separated by one blank line. Anything unusable raises
DocumentError with a reason that reads after the file name ("report.pdf is empty"), and its
reason code for the bot to say it in the admin's language.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

import docx
from bs4 import BeautifulSoup, NavigableString, Tag, UnusualUsageWarning
from bs4.element import PreformattedString
from docx.styles.style import CharacterStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from retrieval.errors import DocumentError
from retrieval.sources.documents import decode_source

SUPPORTED_UPLOADS = (".txt", ".md", ".pdf", ".html", ".htm", ".docx")

# What a file's name promises, as "<name> is not ...". These and _FOUND are also the
# `expected` and `found` values of a "mismatch" DocumentError, which the bot words as
# error_expected_<key> and error_found_<key>.
_EXPECTED = {
    ".txt": "plain text",
    ".md": "Markdown text",
    ".pdf": "a PDF",
    ".html": "an HTML page",
    ".htm": "an HTML page",
    ".docx": "a Word .docx document",
}
# What the bytes look like, as "(it looks like ...)".
_FOUND = {
    "pdf": "it looks like a PDF",
    "docx": "it looks like a Word .docx document",
    "xlsx": "it looks like an Excel workbook",
    "pptx": "it looks like a PowerPoint presentation",
    "odf": "it looks like an OpenDocument file",
    "zip": "it looks like a ZIP archive",
    "damaged_zip": "it looks like a damaged ZIP archive",
    "ole": "it looks like an old-format Office file (.doc, .xls or .ppt)",
    "exe": "it looks like a Windows program",
    "elf": "it looks like a Linux program",
    "png": "it looks like a PNG image",
    "jpeg": "it looks like a JPEG image",
    "gif": "it looks like a GIF image",
    "html": "it looks like an HTML page",
    "utf16": "it looks like UTF-16 text",
    "text": "it looks like plain text",
    "binary": "it is binary data of an unknown kind",
}
# A hint when the bytes are a kind we could read under another name.
_HINTS = {
    "pdf": "; rename it to end in .pdf",
    "docx": "; rename it to end in .docx",
    "html": "; rename it to end in .html",
    "ole": "; save it as .docx",
}
_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x7fELF", "elf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\xff\xfe", "utf16"),
    (b"\xfe\xff", "utf16"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_HTML_TAG = re.compile(rb"<(?:html|body)[\s>]", re.IGNORECASE)
# A DOCX whose zip directory declares more than this unpacked is refused before parsing: real
# briefs unpack to a few MB (images included), while a 737 KB bomb declared a 200 MB
# document.xml and took 1.2 GB and eight minutes to parse. The XML parts get the lower cap
# because python-docx parses them into trees of about ten times their size; zipfile stops
# (BadZipFile) at the declared size, so a directory that lies about it gains nothing.
_MAX_UNPACKED = 64 * 1024 * 1024
_MAX_UNPACKED_XML = 32 * 1024 * 1024

# Text clean-up: control characters (never NUL), lone surrogates (cannot be saved as UTF-8),
# and invisible characters that only split words (soft hyphen, zero-width space, BOM).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_INVISIBLE = re.compile(r"[\u00ad\u200b\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")
_WHITESPACE = re.compile(r"\s+")
# A paragraph line that Markdown (and retrieval.documents) would read as a heading.
_LOOKS_LIKE_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[ \t]|$)", re.MULTILINE)

_JUNK_TITLES = {"untitled", "untitled document", "document", "title", "no title", "unknown"}
_FILE_NAME_TITLE = re.compile(
    r"(?:^microsoft (?:word|powerpoint|excel) - )|\.(?:docx?|pdf|txt|rtf|odt|pptx?|xlsx?|indd|"
    r"qxd|tex|dvi|ps|html?|tmp)$",
    re.IGNORECASE,
)

_HTML_DROP = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "template",
    "svg",
    "iframe",
)
_HTML_BLOCKS = frozenset(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset "
    "figcaption figure h1 h2 h3 h4 h5 h6 hgroup hr li main menu ol p pre section summary "
    "table tbody td tfoot th thead tr ul".split()
)
_HTML_HEADINGS = {"h1": 1, "h2": 2, "h3": 3}
_HTML_OWN_KIND = ("li", "pre", *_HTML_HEADINGS)  # block tags whose text is not a plain paragraph
_NAVIGATION = re.compile(r"^\s*navigation\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    kind: str  # "text", "markdown", "pdf", "html" or "docx": what the bytes really are
    markdown: str  # the document as Markdown, ready to be saved as a .md source file
    title: str | None


@dataclass(frozen=True, slots=True)
class _Block:
    level: int  # 1-3 for a heading (as in h1-h3 / Heading 1-3), 0 for a paragraph
    text: str


def extract(data: bytes, file_name: str, max_bytes: int) -> ExtractedDocument:
    """The text of an uploaded file as Markdown, or DocumentError saying why it is unusable."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in SUPPORTED_UPLOADS:
        kinds, last = ", ".join(SUPPORTED_UPLOADS[:-1]), SUPPORTED_UPLOADS[-1]
        if not suffix:
            raise DocumentError(
                f"has no file extension; upload {kinds} or {last}",
                "no_extension",
                kinds=kinds,
                last=last,
            )
        raise DocumentError(
            f"has an unsupported file type ({suffix}); upload {kinds} or {last}",
            "unsupported_type",
            suffix=suffix,
            kinds=kinds,
            last=last,
        )
    if not data:
        raise DocumentError("is empty", "empty")
    if len(data) > max_bytes:
        raise DocumentError(
            f"is over the size limit of {max_bytes:,} bytes", "too_big", max_bytes=max_bytes
        )
    found = _sniff(data)
    if suffix == ".pdf":
        if found != "pdf" and b"%PDF-" not in data[:1024]:
            raise _mismatch(suffix, found)
        return _extract_pdf(data)
    if suffix == ".docx":
        if found == "damaged_zip":
            raise _damaged("DOCX")
        if found != "docx":
            raise _mismatch(suffix, found)
        return _extract_docx(data)
    if suffix in (".html", ".htm"):
        if found not in ("html", "text", "utf16"):
            raise _mismatch(suffix, found)
        return _extract_html(data)
    return _extract_text(data, suffix, found)


def _mismatch(suffix: str, found: str) -> DocumentError:
    message = f"is not {_EXPECTED[suffix]} ({_FOUND[found]}){_HINTS.get(found, '')}"
    expected = suffix.removeprefix(".")
    if found == "ole":
        return DocumentError(message, "mismatch_old_office", expected=expected, found=found)
    if found in _HINTS:
        return DocumentError(
            message, "mismatch_rename", expected=expected, found=found, suffix=f".{found}"
        )
    return DocumentError(message, "mismatch", expected=expected, found=found)


def _damaged(kind: str) -> DocumentError:
    return DocumentError(
        f"cannot be read as {kind} (the file is damaged or incomplete)", "unreadable", kind=kind
    )


def _unreadable(kind: str, error: Exception) -> DocumentError:
    """A library's exception while parsing as `kind`: damage, with its message when short."""
    detail = _squeeze(str(error).splitlines()[0] if str(error) else "")
    if isinstance(error, LookupError) or not detail:
        return _damaged(kind)
    if len(detail) > 120:
        detail = detail[:117] + "..."
    return DocumentError(
        f"cannot be read as {kind} (the file is damaged: {detail})",
        "unreadable_detail",
        kind=kind,
        detail=detail,
    )


# --- sniffing ----------------------------------------------------------------------------


def _sniff(data: bytes) -> str:
    """What the bytes really are, by their magic numbers and content (a key of _FOUND)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data.startswith(_ZIP_MAGIC):
        return _sniff_zip(data)
    # "MZ" alone could start a text file; a real program's header has NUL bytes.
    if data.startswith(b"MZ") and not _is_text(data[:1024]):
        return "exe"
    if not _is_text(data[:8192]):
        return "binary"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML_START.match(head) or (head.startswith(b"<") and _HTML_TAG.search(head)):
        return "html"
    return "text"


def _is_text(head: bytes) -> bool:
    """No NUL bytes and hardly any other control characters (in any ASCII-based encoding)."""
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13, 26, 27))
    return controls <= max(1, len(head) // 100)


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "damaged_zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if {"mimetype", "content.xml"} <= names:
        return "odf"
    return "zip"


# --- text and Markdown -------------------------------------------------------------------


def _extract_text(data: bytes, suffix: str, found: str) -> ExtractedDocument:
    if found == "utf16":
        raise DocumentError("is UTF-16 text; save it as UTF-8", "utf16")
    if found == "binary" or (found == "text" and b"\x00" in data):
        raise DocumentError("is a binary file, not text", "binary")
    if found != "text":
        raise _mismatch(suffix, found)
    text = decode_source(data).removeprefix("\ufeff")
    if not text.strip():
        raise DocumentError("is empty", "empty")
    kind = "markdown" if suffix == ".md" else "text"
    return ExtractedDocument(kind=kind, markdown=_tidy(text), title=None)


# --- PDF ---------------------------------------------------------------------------------


def _extract_pdf(data: bytes) -> ExtractedDocument:
    # pypdf raises many kinds of exception on damaged files (its own, ValueError, KeyError,
    # struct and zlib errors...), so anything it raises means "cannot be read".
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except (DependencyError, NotImplementedError):
        raise DocumentError(
            "is encrypted in a way this bot cannot open; upload a copy without encryption",
            "pdf_encrypted",
        ) from None
    except MemoryError:
        raise  # not damage: the caller's memory limit says what it is
    except Exception as error:
        raise _unreadable("PDF", error) from None
    if locked:
        raise DocumentError(
            "is protected by a password; upload a copy that opens without one", "pdf_locked"
        )
    try:
        pages = [page.extract_text() for page in reader.pages]
    except DependencyError:
        raise DocumentError(
            "uses a feature this bot cannot decode; save it again as a standard PDF",
            "pdf_unsupported_feature",
        ) from None
    except MemoryError:
        raise
    except Exception as error:
        raise _unreadable("PDF", error) from None
    if not pages:
        raise DocumentError("cannot be read as PDF (it has no pages)", "pdf_no_pages")
    blocks = [_Block(0, "\n".join(_squeeze(line) for line in page.splitlines())) for page in pages]
    blocks = [block for block in blocks if block.text.strip()]
    if not any(character.isalnum() for block in blocks for character in block.text):
        raise DocumentError(
            "has no text layer (a scanned PDF?); upload a PDF with selectable text",
            "pdf_no_text_layer",
        )
    title = _pdf_title(reader)
    return ExtractedDocument(kind="pdf", markdown=_render(title, blocks), title=title)


def _pdf_title(reader: PdfReader) -> str | None:
    """The /Title of the PDF metadata, if it is a real title."""
    try:
        metadata = reader.metadata
        raw = metadata.title if metadata is not None else None
    except Exception:  # a damaged info dictionary costs the title, not the document
        return None
    return _plausible_title(str(raw) if raw else "")


def _plausible_title(raw: str) -> str | None:
    """A metadata title, unless it is empty, a placeholder or just a file name."""
    title = _squeeze(raw)
    if (
        sum(character.isalnum() for character in title) < 2
        or title.lower() in _JUNK_TITLES
        or _FILE_NAME_TITLE.search(title)
        or len(title) > 200
    ):
        return None
    return title


# --- DOCX --------------------------------------------------------------------------------


def _extract_docx(data: bytes) -> ExtractedDocument:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _damaged("DOCX") from None
    unpacked = sum(info.file_size for info in parts)
    xml = sum(info.file_size for info in parts if info.filename.endswith((".xml", ".rels")))
    if unpacked > _MAX_UNPACKED or xml > _MAX_UNPACKED_XML:
        raise DocumentError(
            f"is too large once unpacked ({unpacked:,} bytes)",
            "unpacked_too_large",
            unpacked=unpacked,
        )
    # python-docx raises KeyError, ValueError, lxml and zipfile errors on damaged files.
    try:
        document = docx.Document(io.BytesIO(data))
        titles: list[str] = []
        blocks = _docx_blocks(document.iter_inner_content(), titles, {})
        fallback = _plausible_title(document.core_properties.title or "")
    except MemoryError:
        raise  # not damage: the caller's memory limit says what it is
    except Exception:
        raise DocumentError(
            "cannot be read as DOCX (it is damaged, or not a plain Word document)",
            "docx_not_plain",
        ) from None
    title = titles[0] if titles else fallback
    return ExtractedDocument(kind="docx", markdown=_render(title, blocks), title=title)


def _docx_blocks(
    items: Iterable[Paragraph | Table], titles: list[str], roles: dict[str | None, str | int]
) -> list[_Block]:
    """Paragraphs in document order; table cells as paragraphs; "Title" paragraphs to titles.

    `roles` caches each style id's role: python-docx looks a style up by scanning every style
    of the document, which made style lookups 90% of the time of reading a long document."""
    blocks: list[_Block] = []
    for item in items:
        if isinstance(item, Table):
            seen: set[object] = set()
            for row in item.rows:
                for cell in row.cells:
                    # Merged cells come back once per grid column / row they span.
                    element = cell._tc  # python-docx has no public identity for a cell
                    if element in seen:
                        continue
                    seen.add(element)
                    blocks += _docx_blocks(cell.iter_inner_content(), titles, roles)
            continue
        style_id = item._p.style  # python-docx has no public id of a paragraph's style
        if style_id not in roles:
            roles[style_id] = _docx_role(item.style)
        role = roles[style_id]
        lines = [_squeeze(line) for line in item.text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if not text:
            continue
        if role == "title" and not titles:
            titles.append(" ".join(text.split()))
        elif role == "list":
            blocks.append(_Block(0, "- " + text))
        elif isinstance(role, int):
            blocks.append(_Block(role, " ".join(text.split())))
        else:
            blocks.append(_Block(0, text))
    return blocks


def _docx_role(style: CharacterStyle | None) -> str | int:
    """ "title", a heading level 1-3, "list" or "body", following the style's base styles."""
    for _ in range(8):  # base styles can form a loop in a damaged file
        if style is None:
            break
        name = (style.name or "").strip().lower()
        if name == "title":
            return "title"
        if name in ("heading 1", "heading 2", "heading 3"):
            return int(name[-1])
        if name.startswith("heading"):
            return "body"
        if name.startswith("list"):
            return "list"
        style = style.base_style
    return "body"


# --- HTML --------------------------------------------------------------------------------


def _extract_html(data: bytes) -> ExtractedDocument:
    try:
        data.decode("utf-8")
        encoding: str | None = "utf-8"  # valid UTF-8 is UTF-8, whatever a <meta> claims
    except UnicodeDecodeError:
        encoding = None  # let Beautiful Soup use <meta charset> or guess
    try:
        with warnings.catch_warnings():
            # Unusual markup (short text that looks like a URL, XML) is still extracted.
            warnings.simplefilter("ignore", UnusualUsageWarning)
            soup = BeautifulSoup(data, "lxml", from_encoding=encoding)
    except MemoryError:
        raise  # not damage: the caller's memory limit says what it is
    except Exception as error:
        raise _unreadable("HTML", error) from None
    for element in soup.find_all(list(_HTML_DROP)):
        # A <header> inside the article holds its headline and date: content, not chrome.
        if element.name == "header" and element.find_parent(["article", "main"]):
            continue
        element.extract()
    for element in soup.find_all(role=_NAVIGATION):
        element.extract()

    blocks: list[_Block] = []
    for root in _html_roots(soup):
        blocks = _html_blocks(root)
        if any(block.level == 0 for block in blocks):
            break
    title = _html_title(soup, blocks)
    return ExtractedDocument(kind="html", markdown=_render(title, blocks), title=title)


def _html_roots(soup: BeautifulSoup) -> list[Tag]:
    """Where the content is, best first: <main>, a single <article>, then the whole page."""
    roots: list[Tag] = []
    main = soup.find("main") or soup.find(role="main")
    if isinstance(main, Tag):
        roots.append(main)
    articles = soup.find_all("article")
    if len(articles) == 1 and isinstance(articles[0], Tag):
        roots.append(articles[0])
    roots.append(soup.body if soup.body is not None else soup)
    return roots


def _html_title(soup: BeautifulSoup, blocks: list[_Block]) -> str | None:
    """<title>, or the first <h1>; the <h1> when <title> is it plus a site name."""
    page_title = _squeeze(soup.title.get_text()) if soup.title is not None else ""
    first_h1 = next((block.text for block in blocks if block.level == 1), "")
    if first_h1 and (not page_title or first_h1 in page_title):
        return first_h1
    return page_title or None


def _html_blocks(root: Tag) -> list[_Block]:
    """The text under `root` as headings and paragraphs, in document order."""
    blocks: list[_Block] = []

    def flush(buffer: list[str | None], kind: str) -> None:
        # None in the buffer is a <br>: a line break, two in a row a paragraph break.
        pre = kind == "pre"
        raw = "".join(
            "\n" if piece is None else piece if pre else _WHITESPACE.sub(" ", piece)
            for piece in buffer
        )
        buffer.clear()
        lines = [_squeeze(line) for line in raw.split("\n")]
        if pre:
            text = "\n".join(line for line in lines if line)
        else:
            text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
        if not text:
            return
        if kind in _HTML_HEADINGS:
            blocks.append(_Block(_HTML_HEADINGS[kind], " ".join(text.split())))
        else:
            blocks.append(_Block(0, "- " + text if kind == "li" else text))

    def visit(element: Tag, kind: str, buffer: list[str | None]) -> None:
        for child in element.children:
            if isinstance(child, Tag):
                if child.name == "br":
                    buffer.append(None)
                elif child.name in _HTML_BLOCKS:
                    flush(buffer, kind)
                    inner_kind = child.name if child.name in _HTML_OWN_KIND else kind
                    inner: list[str | None] = []
                    visit(child, inner_kind, inner)
                    flush(inner, inner_kind)
                else:
                    visit(child, kind, buffer)
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                buffer.append(str(child))

    rest: list[str | None] = []
    visit(root, "p", rest)
    flush(rest, "p")
    return blocks


# --- Markdown output ---------------------------------------------------------------------


def _render(title: str | None, blocks: list[_Block]) -> str:
    """Markdown: "# title", headings shifted so the top level is "##", then paragraphs."""
    first = next((index for index, block in enumerate(blocks) if block.level), None)
    if title and first is not None and blocks[first].text.casefold() == title.casefold():
        blocks = blocks[:first] + blocks[first + 1 :]  # the title again as the first heading
    if not any(block.level == 0 for block in blocks):
        if blocks:
            raise DocumentError("has headings but no body text", "no_body_text")
        raise DocumentError("has no text", "no_text")
    top = min((block.level for block in blocks if block.level), default=1)
    parts = [f"# {title}"] if title else []
    for block in blocks:
        if block.level:
            parts.append("#" * min(block.level - top + 2, 6) + " " + block.text)
        else:
            parts.append(_LOOKS_LIKE_HEADING.sub(r"\1\\\2", block.text))
    return _tidy("\n\n".join(parts))


def _squeeze(text: str) -> str:
    """One line of extracted text: no control or invisible characters, single spaces."""
    text = _INVISIBLE.sub("", _CONTROL.sub(" ", _SURROGATE.sub("\ufffd", text)))
    return " ".join(text.split())


def _tidy(text: str) -> str:
    """No NULs, no trailing spaces, at most one blank line in a row, one final newline."""
    text = _SURROGATE.sub("\ufffd", text.replace("\x00", ""))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip("\n") + "\n"
