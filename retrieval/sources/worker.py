"""Extracting uploads in a child process that can be killed.

`extract` runs in the caller's process with whatever time and memory a file makes it take: a
737 KB DOCX bomb once ran eight minutes at 1.2 GB and could not be stopped, because a thread
cannot be killed. `Extractor` runs it in a fresh `python -m retrieval.sources.worker` instead,
limited in wall time, address space and size of the text, and kills the child when a limit
is hit, when the awaiting task is cancelled, or when `stop()` is called (the bot shutting
down). Every way it can fail is a DocumentError whose reason reads after the file name.

The child reads one request from stdin (a JSON line, then the file's bytes) and writes one
JSON object to stdout: the ExtractedDocument's fields, or {"error": message, "reason": code,
"values": {...}}, the DocumentError to raise again in the parent, reason code included.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import sys
import warnings
from pathlib import Path
from typing import Any

from retrieval.errors import DocumentError
from retrieval.sources.extract import ExtractedDocument, extract

log = logging.getLogger(__name__)

# Real uploads are read in a few seconds. What takes longer is pathological: a DOCX of 700,000
# one-letter paragraphs, inside the unpacked caps of extract.py, takes 30-50 s.
SECONDS = 60.0
# Address space of the child. Python with the readers loaded takes about 200 MB of it; the
# largest document.xml the caps let through (32 MB) about 850 MB.
MEMORY_BYTES = 1024 * 1024 * 1024
# Text is what the index keeps: 20 MB is thousands of pages, far more than a brief holds.
MAX_TEXT_BYTES = 20 * 1024 * 1024

SHUTTING_DOWN = "was not read because the bot is shutting down; send it again in a minute"


def _shutting_down() -> DocumentError:
    return DocumentError(SHUTTING_DOWN, "shutting_down")


class Extractor:
    """Runs `extract` in child processes, each bounded; one instance per bot."""

    def __init__(
        self,
        seconds: float = SECONDS,
        memory_bytes: int = MEMORY_BYTES,
        max_text_bytes: int = MAX_TEXT_BYTES,
    ) -> None:
        self._seconds = seconds
        self._memory_bytes = memory_bytes
        self._max_text_bytes = max_text_bytes
        self._running: set[asyncio.subprocess.Process] = set()
        self._stopped = False

    async def extract(self, data: bytes, file_name: str, max_bytes: int) -> ExtractedDocument:
        """`extract(data, file_name, max_bytes)` in a child, or DocumentError."""
        if self._stopped:
            raise _shutting_down()
        header = {
            "file_name": file_name,
            "max_bytes": max_bytes,
            "memory_bytes": self._memory_bytes,
            "max_text_bytes": self._max_text_bytes,
            # The CPU limit ends a child whose parent died before it could kill it.
            "cpu_seconds": int(self._seconds) + 1,
        }
        request = json.dumps(header).encode() + b"\n" + data
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own session: a Ctrl-C in the bot's terminal is the bot's to handle.
            start_new_session=True,
        )
        self._running.add(child)
        try:
            if self._stopped:  # stop() ran while the child was starting
                raise _shutting_down()
            output, errors = await asyncio.wait_for(child.communicate(request), self._seconds)
        except TimeoutError:
            raise DocumentError(
                f"took too long to read (more than {self._seconds:g} s)",
                "too_slow",
                seconds=self._seconds,
            ) from None
        finally:  # also on cancellation: the child never outlives the call
            self._running.discard(child)
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
                await child.wait()
        if self._stopped:
            raise _shutting_down()
        return self._result(output, errors, child.returncode)

    def stop(self) -> None:
        """Kill every running child and refuse new work; their callers get DocumentError."""
        self._stopped = True
        for child in self._running:
            with contextlib.suppress(ProcessLookupError):
                child.kill()

    def _result(self, output: bytes, errors: bytes, returncode: int | None) -> ExtractedDocument:
        try:
            answer = json.loads(output)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            # Out of memory inside a C library, or a bug: the child died without an answer.
            tail = errors.decode("utf-8", "replace")[-500:].strip()
            log.warning("extraction worker ended with %s and no answer: %s", returncode, tail)
            raise DocumentError(
                "could not be read (the reader ran out of memory or failed); "
                "try saving it again, or as another format",
                "reader_failed",
            )
        if "error" in answer:
            reason = answer.get("reason")
            raise DocumentError(
                str(answer["error"]),
                str(reason) if reason else None,
                **dict(answer.get("values") or {}),
            )
        return ExtractedDocument(
            kind=str(answer["kind"]), markdown=str(answer["markdown"]), title=answer["title"]
        )


def _serve(request: bytes) -> dict[str, Any]:
    """The child's work: limit itself, extract, check the size of the text."""
    header_line, _, data = request.partition(b"\n")
    header = json.loads(header_line)
    memory = int(header["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(header["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    megabytes = memory // (1024 * 1024)
    too_large = _answer(
        DocumentError(
            f"is too large once unpacked (reading it needs over {megabytes:,} MB of memory)",
            "unpacked_too_large_for_memory",
            megabytes=megabytes,
        )
    )
    before = _peak_address_space()
    try:
        document = extract(data, str(header["file_name"]), int(header["max_bytes"]))
    except MemoryError:
        return too_large
    except DocumentError as error:
        # lxml reports a failed allocation as a parse error ("unknown error"), which extract
        # calls damage. Having used over half the memory left says it was the limit: a
        # growing buffer fails when it asks to double.
        if before and _peak_address_space() - before > (memory - before) / 2:
            return too_large
        return _answer(error)
    limit = int(header["max_text_bytes"])
    if len(document.markdown.encode("utf-8")) > limit:
        return _answer(
            DocumentError(
                f"is too large once extracted (over {limit:,} bytes of text)",
                "text_too_large",
                limit=limit,
            )
        )
    return {"kind": document.kind, "markdown": document.markdown, "title": document.title}


def _answer(error: DocumentError) -> dict[str, Any]:
    """The child's answer for a DocumentError. Its values go as JSON: one that is not a number,
    a string or a bool goes as its text, so the reply (and the real reason) is never lost."""
    values = {
        name: value if isinstance(value, int | float | str | bool) else str(value)
        for name, value in error.values.items()
    }
    return {"error": str(error), "reason": error.reason, "values": values}


def _peak_address_space() -> int:
    """The most address space this process has used, in bytes (0 where /proc has no VmPeak)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    # A damaged PDF can make pypdf warn once per object; the parent keeps stderr for tracebacks.
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    answer = _serve(sys.stdin.buffer.read())
    sys.stdout.buffer.write(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
