"""The one verbatim check: a quote is shown only if the source file, read now, holds exactly
that text at the quote's offsets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from retrieval.errors import DocumentError
from retrieval.sources.documents import decode_source


class SourceTexts:
    """The source files' texts as they are now, each read at most once: make one per answer
    or briefing, so a file edited since indexing is noticed at the next one. A replica whose
    sources dir lacks the file (another replica indexed it) checks against `stored`, the text
    the live version was published with."""

    def __init__(
        self, sources_dir: Path, stored: Callable[[str], str | None] | None = None
    ) -> None:
        self._sources_dir = sources_dir
        self._stored = stored
        self._texts: dict[str, str | None] = {}

    def text(self, doc_id: str) -> str | None:
        """The document's text, or None when it is gone or no longer usable text."""
        if doc_id not in self._texts:
            try:
                self._texts[doc_id] = decode_source((self._sources_dir / doc_id).read_bytes())
            except FileNotFoundError:
                self._texts[doc_id] = self._stored(doc_id) if self._stored else None
            except (OSError, DocumentError):
                self._texts[doc_id] = None
        return self._texts[doc_id]

    def holds(self, doc_id: str, start: int, end: int, quote: str) -> bool:
        text = self.text(doc_id)
        return text is not None and text[start:end] == quote
