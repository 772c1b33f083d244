"""Numbering citations: the one place where a quote becomes `[n]`.

Answers and briefings alike number their sources 1, 2, 3… in order of use, and a quote that
is not verbatim in the source file at its offsets is dropped before it gets a number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from retrieval.models import Citation, IndexedSentence
from retrieval.sources.verify import SourceTexts

log = logging.getLogger(__name__)

# A document's own footnote marks ("... as reported [7].") would read as our citations.
_BRACKETED_NUMBERS = re.compile(r"\[(\s*\d{1,3}(?:\s*[,\u2013-]\s*\d{1,3})*\s*)\]")


def display_text(text: str) -> str:
    """Text of a document as shown beside our markers: its own "[7]" becomes "(7)", so every
    [n] a reader sees is one of ours. (Quotes stay verbatim; this is only the answer text.)"""
    return _BRACKETED_NUMBERS.sub(r"(\1)", text)


def consecutive_runs(
    sentences: Sequence[IndexedSentence],
) -> list[tuple[IndexedSentence, ...]]:
    """The sentences as runs that one quote each can hold: consecutive sentences of one
    passage, in the order given (a run breaks where the passage or the position jumps)."""
    runs: list[list[IndexedSentence]] = []
    for sentence in sentences:
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and last.passage.chunk_id == sentence.passage.chunk_id
            and sentence.position == last.position + 1
        ):
            runs[-1].append(sentence)
        else:
            runs.append([sentence])
    return [tuple(run) for run in runs]


class Citations:
    """The citations of one answer or briefing, numbered in the order they are made."""

    def __init__(
        self, sources_dir: Path, stored: Callable[[str], str | None] | None = None
    ) -> None:
        """stored: a document's text as published, for files this sources dir lacks."""
        self._sources = SourceTexts(sources_dir, stored)
        self._made: list[Citation] = []

    @property
    def all(self) -> tuple[Citation, ...]:
        return tuple(self._made)

    def cite(self, group: Sequence[IndexedSentence], score: float = 0.0) -> Citation | None:
        """The next citation, quoting consecutive sentences of one passage; None (and no
        number used) when the quote is not verbatim in the source file at its offsets."""
        passage = group[0].passage
        start, end = group[0].span.start, group[-1].span.end
        quote = passage.text[start - passage.start : end - passage.start]
        if not self._sources.holds(passage.doc_id, start, end, quote):
            log.warning(
                "dropped a citation of %s: not verbatim at %d-%d", passage.doc_id, start, end
            )
            return None
        citation = Citation(
            n=len(self._made) + 1,
            document=passage.doc_id,
            title=passage.title,
            section=passage.section,
            chunk_id=passage.chunk_id,
            quote=quote,
            start=start,
            end=end,
            score=score,
            date=passage.date,
        )
        self._made.append(citation)
        return citation
