from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from PIL import Image

from retrieval.errors import DocumentError
from retrieval.sources.documents import parse_document
from retrieval.sources.extract import SUPPORTED_UPLOADS, ExtractedDocument, extract

LIMIT = 1_000_000


def run(data: bytes, name: str, max_bytes: int = LIMIT) -> ExtractedDocument:
    return extract(data, name, max_bytes)


def rejected(data: bytes, name: str, max_bytes: int = LIMIT) -> str:
    with pytest.raises(DocumentError) as caught:
        extract(data, name, max_bytes)
    return str(caught.value)


def assert_tidy(markdown: str) -> None:
    assert "\x00" not in markdown
    assert markdown.endswith("\n")
    assert not markdown.endswith("\n\n")
    assert "\n\n\n" not in markdown
    assert all(line == line.rstrip() for line in markdown.split("\n"))


# --- fixtures, built in memory -------------------------------------------------------------


def text_pdf(title: str | None = "Bridge Budget 2025") -> bytes:
    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "The ministry will spend   40 million euros on new bridges.")
    pdf.add_page()
    pdf.multi_cell(0, 8, "Work on the northern bridge starts in March.")
    return bytes(pdf.output())


def image_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.new("RGB", (60, 40), (120, 120, 120)), x=10, y=10, w=120)
    return bytes(pdf.output())


def word_file() -> bytes:
    document = docx.Document()
    document.add_heading("Annual Report", level=0)
    document.add_paragraph("The council met twelve times this year.")
    document.add_heading("Spending", level=1)
    document.add_paragraph("Roads took most of the budget.")
    document.add_heading("Details", level=2)
    document.add_paragraph("Salt for the winter", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (row, column), text in {
        (0, 0): "Region",
        (0, 1): "Amount",
        (1, 0): "North",
        (1, 1): "12 million",
    }.items():
        table.cell(row, column).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


PAGE = b"""<!DOCTYPE html>
<html><head><title>Bridge plan | City News</title>
<style>p { color: red }</style><script>var tracking = "script text";</script></head>
<body>
<header><a href="/">City News</a> masthead</header>
<nav><ul><li><a href="/sport">Sport menu</a></li></ul></nav>
<div role="navigation">Skip to content</div>
<main>
  <h1>Bridge plan</h1>
  <p>The   city will build a new bridge &amp; a tunnel&nbsp;by 2027.</p>
  <h2>Costs</h2>
  <p>It will cost <b>40</b> million euros.</p>
  <ul><li>Steel</li><li>Concrete</li></ul>
  <table><tr><td>North span</td><td>12 million</td></tr></table>
  <aside>Related: Sidebar story</aside>
  <form>Subscribe form</form>
</main>
<footer>Copyright footer</footer>
<script>console.log("late script")</script>
</body></html>
"""


# --- PDF --------------------------------------------------------------------------------


def test_text_pdf_gives_words_of_every_page_and_its_title() -> None:
    result = run(text_pdf(), "brief.pdf")
    assert result.kind == "pdf"
    assert result.title == "Bridge Budget 2025"
    assert result.markdown.startswith("# Bridge Budget 2025\n\n")
    assert "spend 40 million euros on new bridges." in result.markdown  # spaces squeezed
    first = result.markdown.index("new bridges.")
    second = result.markdown.index("Work on the northern bridge")
    assert "\n\n" in result.markdown[first:second]  # pages are paragraphs
    assert "##" not in result.markdown  # no invented headings
    assert_tidy(result.markdown)


def test_pdf_without_title_metadata_has_no_title() -> None:
    result = run(text_pdf(title=None), "brief.PDF")
    assert result.title is None
    assert result.markdown.startswith("The ministry will spend")


def test_pdf_title_that_is_just_a_file_name_is_ignored() -> None:
    assert run(text_pdf(title="Microsoft Word - draft3.docx"), "brief.pdf").title is None


def test_image_only_pdf_is_rejected_as_scanned() -> None:
    reason = rejected(image_pdf(), "scan.pdf")
    assert reason.startswith("has no text layer (a scanned PDF?)")


def test_windows_program_named_pdf_is_rejected() -> None:
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)
    assert rejected(program, "x.pdf") == "is not a PDF (it looks like a Windows program)"


def test_damaged_pdf_cannot_be_read() -> None:
    data = text_pdf()
    assert rejected(data[: len(data) // 3], "cut.pdf").startswith("cannot be read as PDF")


def test_password_protected_pdf_is_rejected_but_owner_only_protection_is_fine() -> None:
    locked = FPDF()
    locked.set_font("helvetica", size=12)
    locked.add_page()
    locked.multi_cell(0, 8, "Secret minutes of the meeting.")
    locked.set_encryption(owner_password="owner", user_password="reader")
    assert "password" in rejected(bytes(locked.output()), "locked.pdf")

    restricted = FPDF()
    restricted.set_font("helvetica", size=12)
    restricted.add_page()
    restricted.multi_cell(0, 8, "Public minutes of the meeting.")
    restricted.set_encryption(owner_password="owner")
    assert "Public minutes" in run(bytes(restricted.output()), "open.pdf").markdown


# --- DOCX -------------------------------------------------------------------------------


def test_word_file_gives_title_headings_paragraphs_and_table_cells() -> None:
    result = run(word_file(), "report.docx")
    assert result.kind == "docx"
    assert result.title == "Annual Report"
    lines = result.markdown.split("\n")
    assert lines[0] == "# Annual Report"
    assert "## Spending" in lines
    assert "### Details" in lines
    assert "- Salt for the winter" in lines
    for paragraph in ("The council met twelve times this year.", "Region", "12 million"):
        assert paragraph in lines
    assert result.markdown.index("Roads took") < result.markdown.index("North")
    assert_tidy(result.markdown)


def test_word_file_without_title_style_uses_core_properties_title() -> None:
    document = docx.Document()
    document.core_properties.title = "Minutes of March"
    document.add_paragraph("The meeting opened at nine.")
    buffer = io.BytesIO()
    document.save(buffer)
    result = run(buffer.getvalue(), "minutes.docx")
    assert result.title == "Minutes of March"
    assert result.markdown == "# Minutes of March\n\nThe meeting opened at nine.\n"


def test_random_bytes_named_docx_are_rejected() -> None:
    noise = random.Random(7).randbytes(4096)
    assert rejected(noise, "report.docx").startswith("is not a Word .docx document")


def test_zip_without_a_word_document_is_not_a_docx() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    reason = rejected(buffer.getvalue(), "report.docx")
    assert reason == "is not a Word .docx document (it looks like a ZIP archive)"


def test_truncated_docx_cannot_be_read() -> None:
    data = word_file()
    assert rejected(data[: len(data) // 2], "report.docx").startswith("cannot be read as DOCX")


# --- HTML -------------------------------------------------------------------------------


def test_html_keeps_main_text_and_headings_and_drops_the_chrome() -> None:
    result = run(PAGE, "bridge.html")
    assert result.kind == "html"
    assert result.title == "Bridge plan"  # the <h1>, without the site name of <title>
    assert result.markdown == (
        "# Bridge plan\n\n"
        "The city will build a new bridge & a tunnel by 2027.\n\n"
        "## Costs\n\n"
        "It will cost 40 million euros.\n\n"
        "- Steel\n\n"
        "- Concrete\n\n"
        "North span\n\n"
        "12 million\n"
    )


def test_html_without_main_uses_the_body_minus_navigation() -> None:
    page = (
        b"<html><head><title>Notice</title></head><body>"
        b"<nav>Menu</nav><header>Site name</header>"
        b"<div>Water will be off <i>on Monday</i>.<br>Sorry.</div>"
        b"<footer>Footer</footer></body></html>"
    )
    result = run(page, "notice.htm")
    assert result.title == "Notice"
    assert result.markdown == "# Notice\n\nWater will be off on Monday.\nSorry.\n"


def test_html_with_only_chrome_has_no_text() -> None:
    page = b"<html><body><nav>Menu</nav><script>x()</script></body></html>"
    assert rejected(page, "empty.html") == "has no text"


def test_pdf_named_html_is_rejected() -> None:
    reason = rejected(text_pdf(), "page.html")
    assert reason == "is not an HTML page (it looks like a PDF); rename it to end in .pdf"


# --- text and Markdown ------------------------------------------------------------------


def test_markdown_with_bom_keeps_its_text_without_the_bom() -> None:
    data = "\ufeff# Notes\r\n\r\nCaf\u00e9 opens at 9.  \r\n\r\n\r\n\r\nBye\n".encode()
    result = run(data, "notes.md")
    assert result == ExtractedDocument(
        kind="markdown", markdown="# Notes\n\nCaf\u00e9 opens at 9.\n\nBye\n", title=None
    )


def test_plain_text_is_returned_as_text() -> None:
    result = run(b"Budget brief\n\nThe ministry will spend money.", "brief.txt")
    assert result == ExtractedDocument(
        kind="text", markdown="Budget brief\n\nThe ministry will spend money.\n", title=None
    )


def test_latin1_text_is_rejected_as_not_utf8() -> None:
    reason = rejected("Caf\u00e9 au lait".encode("latin-1"), "menu.txt")
    assert reason.startswith("is not UTF-8 text")


def test_text_with_nul_bytes_is_binary() -> None:
    assert rejected(b"hello" + bytes(10_000) + b"world", "a.txt") == "is a binary file, not text"


def test_html_page_named_md_is_rejected() -> None:
    reason = rejected(PAGE, "page.md")
    assert reason == "is not Markdown text (it looks like an HTML page); rename it to end in .html"


# --- checks before any parsing ----------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.txt", "empty.pdf", "empty.docx", "empty.html"])
def test_empty_file_is_rejected(name: str) -> None:
    assert rejected(b"", name) == "is empty"


def test_whitespace_only_text_is_empty() -> None:
    assert rejected(b"\xef\xbb\xbf \n\n", "blank.md") == "is empty"


def test_oversized_file_is_rejected() -> None:
    assert rejected(b"x" * 101, "big.txt", max_bytes=100) == "is over the size limit of 100 bytes"
    assert run(b"x" * 100, "fits.txt", max_bytes=100).markdown == "x" * 100 + "\n"


@pytest.mark.parametrize("name", ["setup.exe", "photo.png", "archive.tar.gz", "README"])
def test_unsupported_extension_is_rejected(name: str) -> None:
    reason = rejected(b"hello", name)
    assert reason.startswith(("has an unsupported file type", "has no file extension"))
    assert SUPPORTED_UPLOADS[0] in reason


def test_extracted_markdown_parses_as_a_source_document() -> None:
    markdown = run(word_file(), "report.docx").markdown
    document = parse_document(Path("report.md"), "report.md", markdown)
    assert document.title == "Annual Report"
    assert [section.title for section in document.sections][:3] == [
        "Introduction",
        "Spending",
        "Details",
    ]
