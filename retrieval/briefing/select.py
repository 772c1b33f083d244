"""Offline briefings: a short structured overview of what the documents say, every point a
verbatim, cited sentence.

Sentences are scored by centrality (mean similarity to the other sentences of their document,
on the vectors computed at ingest); each section contributes its most central sentences,
near-duplicates dropped, and the points keep document order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from retrieval.answer.citations import Citations, display_text
from retrieval.models import Briefing, BriefingPoint, IndexedSentence

MAX_KEY_POINTS = 6
MAX_PER_SECTION = 3
MAX_POSITIONS = 4
MAX_UNCLEAR = 3
DUPLICATE_SIMILARITY = 0.92
MIN_POINT_WORDS = 4
MAX_WORD_CHARS = 60  # longer than any word: a URL or a hash
# A position: someone's words, quoted or reported.
_POSITION = re.compile(
    r"[\u201c\"]|\b(?:said|says|told|argued|argues|stressed|insisted|denied|denies|"
    r"warned|suggests?|suggested|claimed|claims)\b"
)
# What the documents themselves mark as uncertain or attributed to one source.
_UNCLEAR = re.compile(
    r"\b(?:reportedly|allegedly|alleged|unclear|unconfirmed|disputed|denied|denies|claims?|"
    r"claimed|suggests?|suggested|may|might|could|according to)\b",
    re.IGNORECASE,
)


def _centrality(sentences: Sequence[IndexedSentence]) -> dict[int, float]:
    """Mean similarity of each sentence to the others of its document, by id()."""
    by_document: dict[str, list[IndexedSentence]] = {}
    for sentence in sentences:
        by_document.setdefault(sentence.passage.doc_id, []).append(sentence)
    scores: dict[int, float] = {}
    for group in by_document.values():
        matrix = np.stack([s.vector for s in group])
        similarity = matrix @ matrix.T
        count = len(group)
        means = (similarity.sum(axis=1) - 1.0) / max(count - 1, 1)
        scores.update((id(s), float(m)) for s, m in zip(group, means, strict=True))
    return scores


def select_points(
    sentences: Sequence[IndexedSentence],
) -> tuple[
    IndexedSentence | None, list[IndexedSentence], list[IndexedSentence], list[IndexedSentence]
]:
    """The bottom line, key points, positions and unclear points, each in document order."""
    sentences = [s for s in sentences if _readable(s.text)]
    if not sentences:
        return None, [], [], []
    central = _centrality(sentences)
    by_section: dict[tuple[str, str], list[IndexedSentence]] = {}
    for sentence in sentences:
        by_section.setdefault((sentence.passage.doc_id, sentence.passage.section), []).append(
            sentence
        )
    # Every section gets a say; few sections (a topic briefing) get more than one point each.
    per_section = max(1, min(MAX_PER_SECTION, MAX_KEY_POINTS // len(by_section)))
    picked: list[IndexedSentence] = []
    for group in by_section.values():
        for candidate in sorted(group, key=lambda s: -central[id(s)])[:per_section]:
            if not any(float(candidate.vector @ p.vector) > DUPLICATE_SIMILARITY for p in picked):
                picked.append(candidate)
    picked = sorted(picked, key=lambda s: -central[id(s)])[: MAX_KEY_POINTS + 1]
    bottom = picked[0]
    key_points = _in_order(picked[1:])
    used = {id(s) for s in picked}

    def extra(pattern: re.Pattern[str], limit: int) -> list[IndexedSentence]:
        found = [s for s in sentences if id(s) not in used and pattern.search(s.text)]
        chosen = sorted(found, key=lambda s: -central[id(s)])[:limit]
        used.update(id(s) for s in chosen)
        return _in_order(chosen)

    positions = extra(_POSITION, MAX_POSITIONS)
    unclear = extra(_UNCLEAR, MAX_UNCLEAR)
    return bottom, key_points, positions, unclear


def _readable(text: str) -> bool:
    """A sentence a person would read as a point: a few words, none of them a wall of
    characters (a long URL, a hash, a table flattened into one line)."""
    tokens = text.split()
    return len(tokens) >= MIN_POINT_WORDS and max(map(len, tokens)) <= MAX_WORD_CHARS


def _in_order(sentences: list[IndexedSentence]) -> list[IndexedSentence]:
    return sorted(sentences, key=lambda s: (s.passage.doc_id, s.span.start))


def build_briefing(
    topic: str | None,
    version: int,
    sentences: Sequence[IndexedSentence],
    citations: Citations,
) -> Briefing:
    """Number the points' citations in reading order (bottom line first); a point whose
    quote fails verification is left out."""
    bottom, key_points, positions, unclear = select_points(sentences)

    def points(chosen: list[IndexedSentence]) -> tuple[BriefingPoint, ...]:
        result = []
        for sentence in chosen:
            citation = citations.cite([sentence])
            if citation is not None:
                result.append(BriefingPoint(display_text(sentence.text), citation))
        return tuple(result)

    bottom_points = points([bottom] if bottom else [])
    return Briefing(
        topic=topic,
        version=version,
        bottom_line=bottom_points[0] if bottom_points else None,
        key_points=points(key_points),
        positions=points(positions),
        unclear=points(unclear),
    )


_SECTION = re.compile(r"^[*#\s]*(BOTTOM LINE|KEY POINTS|POSITIONS|UNCLEAR)[*\s]*:?\s*(.*)$", re.I)
SECTION_KEYS = {
    "BOTTOM LINE": "bottom",
    "KEY POINTS": "key",
    "POSITIONS": "positions",
    "UNCLEAR": "unclear",
}


def parse_sections(text: str) -> dict[str, list[str]]:
    """The items under each heading of a model-written briefing (see prompts/brief.txt)."""
    sections: dict[str, list[str]] = {key: [] for key in SECTION_KEYS.values()}
    current: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        heading = _SECTION.match(stripped)
        if heading:
            current = SECTION_KEYS[heading.group(1).upper()]
            stripped = heading.group(2).strip()
        item = stripped.lstrip("-\u2022* ").strip()
        if current is not None and item:
            sections[current].append(item)
    return sections
