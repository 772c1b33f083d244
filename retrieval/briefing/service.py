"""Briefings: a structured, cited overview of the documents or of a topic, written by the LLM
when one is configured (each point checked like an answer) with the extractive briefing as
its fallback; and what is new since a chat's last briefing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from config import Settings
from retrieval.answer.citations import Citations
from retrieval.answer.grounding import best_quote, ground, leaks
from retrieval.answer.service import check_question
from retrieval.briefing.select import build_briefing, parse_sections
from retrieval.briefing.topics import on_topic
from retrieval.index.embedders import Embedder
from retrieval.index.live import LiveIndex, LiveIndexes
from retrieval.llm.calls import LlmFailure
from retrieval.models import MODE_LLM, Briefing, BriefingPoint, Passage, WhatsNew
from retrieval.reading import QuestionReader

if TYPE_CHECKING:  # the client itself loads only in LLM mode (composition)
    from retrieval.llm.chat import ChatModel

BRIEF_PASSAGES = 12  # passages an LLM briefing is written from


class BriefingService:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        indexes: LiveIndexes,
        reader: QuestionReader,
        llm: ChatModel | None,
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._indexes = indexes
        self._reader = reader
        self._llm = llm

    def brief(
        self, topic: str | None = None, documents: Collection[str] | None = None
    ) -> Briefing:
        """A structured, cited overview of all documents (or of `documents`, by id), or of
        what they say on a topic."""
        live = self._indexes.current()
        sentences = live.all_sentences()
        if documents is not None:
            sentences = [s for s in sentences if s.passage.doc_id in documents]
        read_as: tuple[tuple[str, str], ...] = ()
        if topic is not None:
            topic = check_question(topic, self._settings.max_question_chars)
            reading = self._reader.read(topic, live.statistics)  # as a question is read
            read_as = reading.read_as
            found = on_topic(live, self._embedder, reading.text, self._settings.top_k)
            about = {id(s) for s in found}
            sentences = [s for s in sentences if id(s) in about]
        extractive = build_briefing(
            topic,
            live.manifest.version,
            sentences,
            Citations(self._settings.sources_dir, self._indexes.store.stored_text),
        )
        extractive = replace(extractive, read_as=read_as)
        if self._llm is None or extractive.bottom_line is None:
            return extractive
        # The model sees the passages the extractive briefing drew on, and may do better.
        chunk_ids = dict.fromkeys(c.chunk_id for c in extractive.citations)
        passages = [p for p in live.searcher.passages if p.chunk_id in chunk_ids][:BRIEF_PASSAGES]
        try:
            text = self._llm.brief(topic or "all the documents", passages)
        except LlmFailure as failure:
            return replace(extractive, fallback=failure.reason)
        if leaks(text, self._llm.prompts.system, self._settings.secrets()):
            return replace(extractive, fallback="leak")
        return self._llm_briefing(text, passages, live, extractive) or replace(
            extractive, fallback="no_valid_citation"
        )

    def whats_new(self, seen: Mapping[str, str], topic: str | None = None) -> WhatsNew:
        """What changed since a briefing that covered `seen` (document id: content hash):
        the new or updated documents and a briefing of them (None when nothing changed)."""
        manifest = self._indexes.current().manifest
        current = manifest.content_hashes()
        changed = [doc_id for doc_id, content in current.items() if seen.get(doc_id) != content]
        briefing = self.brief(topic, changed) if changed else None
        if briefing is not None and briefing.bottom_line is None:
            briefing = None
        titles = tuple(d.title for d in manifest.documents if d.doc_id in changed)
        return WhatsNew(current, titles, briefing)

    def _llm_briefing(
        self, text: str, passages: list[Passage], live: LiveIndex, extractive: Briefing
    ) -> Briefing | None:
        """The model's briefing, each item kept only if it cites a given passage and its
        numbers are there; None without a valid bottom line."""
        citations = Citations(self._settings.sources_dir, self._indexes.store.stored_text)

        def points(items: list[str]) -> tuple[BriefingPoint, ...]:
            kept = []
            for item in items:
                grounding = ground(item, passages)
                if not grounding.usable:
                    continue
                # One point, one source: sentences citing another passage would otherwise
                # appear backed by this one's quote.
                first = grounding.sentences[0].passages[0]
                texts = [s.text for s in grounding.sentences if first in s.passages]
                quote = best_quote(texts, live.sentences[passages[first].chunk_id])
                citation = citations.cite([quote])
                if citation is not None:
                    kept.append(BriefingPoint(" ".join(texts), citation))
            return tuple(kept)

        sections = parse_sections(text)
        bottom = points(sections["bottom"][:1])
        if not bottom:
            return None
        return replace(
            extractive,
            bottom_line=bottom[0],
            key_points=points(sections["key"]),
            positions=points(sections["positions"]),
            unclear=points(sections["unclear"]),
            mode=MODE_LLM,
        )
