"""Reading an upload is bounded: a zip bomb is refused from its zip directory, and the worker
process is killed at its time, memory or text limit, when stopped and when cancelled; its
refusals reach the parent with their reason codes."""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from retrieval.errors import DocumentError
from retrieval.sources.extract import extract
from retrieval.sources.worker import Extractor, _answer

LIMIT = 1_000_000
PARAGRAPH = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>"


def slow_docx(paragraphs: int) -> bytes:
    """A real DOCX of `paragraphs` one-letter paragraphs: tiny zipped (the XML repeats), and
    reading it takes time in proportion (roughly a minute per million paragraphs)."""
    template = io.BytesIO()
    docx.Document().save(template)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "word/document.xml":
                archive.writestr(info.filename, data)
                continue
            body = data.index(b"<w:body>") + len(b"<w:body>")
            with archive.open(info.filename, "w") as document:  # streamed: a bomb stays small
                document.write(data[:body])
                for _ in range(paragraphs // 1000):
                    document.write(PARAGRAPH * 1000)
                document.write(data[body:])
    return out.getvalue()


def worker_children() -> list[int]:
    """Pids of this process's extraction workers that are still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # it ended while we looked
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"retrieval.sources.worker" in command:
            found.append(int(entry.name))
    return found


async def started_worker() -> None:
    """Wait until an extraction worker is running."""
    async with asyncio.timeout(30):
        while not worker_children():  # noqa: ASYNC110 - a process starting has no event
            await asyncio.sleep(0.01)


def word_file() -> bytes:
    document = docx.Document()
    document.add_heading("Annual Report", level=0)
    document.add_paragraph("The council met twelve times this year.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def text_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_title("Bridge Budget 2025")
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "The ministry will spend 40 million euros on new bridges.")
    return bytes(pdf.output())


HTML = (
    b"<html><head><title>Budget</title></head><body><main><h1>Budget</h1>"
    b"<p>The ministry will spend 40 million euros.</p></main></body></html>"
)


def test_a_docx_bomb_is_refused_from_its_zip_directory() -> None:
    bomb = slow_docx(200 * 1024 * 1024 // len(PARAGRAPH))  # a 200 MB document.xml
    assert len(bomb) < 1024 * 1024
    with pytest.raises(DocumentError, match=r"is too large once unpacked \(2\d\d,\d{3},\d{3}"):
        extract(bomb, "bomb.docx", LIMIT)


async def test_the_worker_reads_what_extract_reads() -> None:
    extractor = Extractor()
    for data, name in ((word_file(), "a.docx"), (text_pdf(), "b.pdf"), (HTML, "c.html")):
        assert await extractor.extract(data, name, LIMIT) == extract(data, name, LIMIT)
    with pytest.raises(DocumentError, match="is empty"):
        await extractor.extract(b"", "empty.txt", LIMIT)
    bomb = slow_docx(200 * 1024 * 1024 // len(PARAGRAPH))
    with pytest.raises(DocumentError, match="is too large once unpacked"):
        await extractor.extract(bomb, "bomb.docx", LIMIT)
    assert worker_children() == []


async def test_a_slow_extraction_is_killed_at_the_time_limit() -> None:
    slow = slow_docx(300_000)  # 10-20 s to read, well inside the unpacked caps
    with pytest.raises(DocumentError, match=r"took too long to read \(more than 0.5 s\)"):
        await Extractor(seconds=0.5).extract(slow, "slow.docx", LIMIT)
    assert worker_children() == []


async def test_an_extraction_over_the_memory_limit_is_refused() -> None:
    large = slow_docx(800_000)  # under the caps, but parsing it takes about 800 MB
    with pytest.raises(DocumentError, match=r"is too large once unpacked \(reading it needs"):
        await Extractor(memory_bytes=400 * 1024 * 1024).extract(large, "large.docx", LIMIT)
    assert worker_children() == []


async def test_text_over_the_limit_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"is too large once extracted \(over 50 bytes"):
        await Extractor(max_text_bytes=50).extract(word_file(), "report.docx", LIMIT)


async def test_a_refusal_keeps_its_reason_code_and_values_across_the_process_boundary() -> None:
    extractor = Extractor(max_text_bytes=50)
    with pytest.raises(DocumentError) as in_extract:
        await extractor.extract(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.pdf", LIMIT)
    assert (in_extract.value.reason, in_extract.value.values) == (
        "mismatch",
        {"expected": "pdf", "found": "png"},
    )
    with pytest.raises(DocumentError) as in_worker:  # decided by the child, after extract
        await extractor.extract(word_file(), "report.docx", LIMIT)
    assert (in_worker.value.reason, in_worker.value.values) == ("text_too_large", {"limit": 50})
    assert str(in_worker.value) == "is too large once extracted (over 50 bytes of text)"


async def test_stop_kills_a_running_extraction_and_refuses_new_ones() -> None:
    extractor = Extractor()
    reading = asyncio.create_task(extractor.extract(slow_docx(500_000), "slow.docx", LIMIT))
    await started_worker()
    extractor.stop()
    with pytest.raises(DocumentError, match="the bot is shutting down"):
        await reading
    assert worker_children() == []
    with pytest.raises(DocumentError, match="the bot is shutting down"):
        await extractor.extract(word_file(), "a.docx", LIMIT)


async def test_cancelling_an_extraction_kills_its_worker() -> None:
    reading = asyncio.create_task(Extractor().extract(slow_docx(500_000), "slow.docx", LIMIT))
    await started_worker()
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert worker_children() == []


def test_a_reason_value_that_is_not_json_still_crosses_as_text() -> None:
    """The child answers in JSON: a value such as a path must not make its answer unwritable
    (the parent would then report "reader failed" and lose the real reason)."""
    error = DocumentError("cannot be read (/tmp/a.pdf)", "unreadable_detail", detail=Path("/a"))
    answer = json.loads(json.dumps(_answer(error)))
    assert answer == {
        "error": "cannot be read (/tmp/a.pdf)",
        "reason": "unreadable_detail",
        "values": {"detail": "/a"},
    }
