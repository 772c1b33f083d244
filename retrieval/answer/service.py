"""Answering a question: retrieve, pick the sentences that answer it (or decline), and with an
LLM configured let the model write the answer under the same citation checks, the extractive
answer being its fallback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace

from config import Settings
from retrieval.answer.citations import Citations, display_text
from retrieval.answer.grounding import (
    NOT_COVERED_MARK,
    Grounding,
    best_quote,
    ground,
    is_not_covered,
    leaks,
)
from retrieval.errors import QuestionError
from retrieval.evidence.pipeline import AnswerModels, EvidenceAnswerer, Outcome
from retrieval.index.embedders import Embedder
from retrieval.index.live import LiveIndex, LiveIndexes
from retrieval.llm.chat import ChatModel, LlmFailure
from retrieval.models import (
    MODE_EXTRACTIVE,
    MODE_LLM,
    NOT_COVERED,
    NOT_EXACTLY,
    Answer,
    AnswerUpdate,
    IndexedSentence,
    Passage,
    SearchHit,
    Turn,
)
from retrieval.sources.documents import LEAD_SECTION

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A question after retrieval, with its extractive answer (the fallback)."""

    question: str  # as asked, cleaned
    standalone: str  # rewritten from the conversation when it is a follow-up
    live: LiveIndex
    hits: list[SearchHit]
    passages: list[Passage]  # what the model is given, numbered from 1
    extractive: Answer


class AnswerService:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        indexes: LiveIndexes,
        models: AnswerModels,
        llm: ChatModel | None,
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._indexes = indexes
        self._models = models
        self._llm = llm
        # by (index version, document, limit)
        self._examples: dict[tuple[int, str | None, int], list[str]] = {}

    def check_question(self, question: str) -> str:
        return check_question(question, self._settings.max_question_chars)

    def search(self, question: str, k: int | None = None) -> list[SearchHit]:
        live = self._indexes.current()
        vector = self._embedder.embed_question(question)
        return live.searcher.search(question, vector, k or self._settings.top_k)

    def ask(self, question: str, k: int | None = None, history: Sequence[Turn] = ()) -> Answer:
        """Answer with the LLM when one is configured, else (or when it fails) extractively."""
        prepared = self._prepare(question, k, history)
        if self._llm is None or prepared.passages == []:
            return prepared.extractive
        try:
            text = self._llm.complete(prepared.standalone, prepared.passages)
        except LlmFailure as failure:
            return self._fall_back(prepared, failure.reason)
        return self._finish(prepared, text, regenerate=True)

    async def ask_streaming(
        self, question: str, k: int | None = None, history: Sequence[Turn] = ()
    ) -> AsyncIterator[AnswerUpdate]:
        """Drafts of the answer as the model writes it (unchecked, for display only), then
        the checked answer, always last. Offline, only the answer."""
        prepared = await asyncio.to_thread(self._prepare, question, k, history)
        if self._llm is None or prepared.passages == []:
            yield AnswerUpdate(answer=prepared.extractive)
            return
        text = ""
        secrets = self._settings.secrets()
        previewing = True
        try:
            async for text in self._llm.stream(prepared.standalone, prepared.passages):
                # Previews are unchecked, but never show instructions or keys being recited.
                previewing = previewing and not leaks(text, self._llm.prompts.system, secrets)
                if previewing and not NOT_COVERED_MARK.startswith(
                    text.strip()[: len(NOT_COVERED_MARK)]
                ):
                    yield AnswerUpdate(draft=text)
        except LlmFailure as failure:
            yield AnswerUpdate(answer=self._fall_back(prepared, failure.reason))
            return
        yield AnswerUpdate(answer=await asyncio.to_thread(self._finish, prepared, text, True))

    def example_questions(self, limit: int = 3, doc_id: str | None = None) -> list[str]:
        """Questions the documents (or one document) answer, from section headings and
        titles: for a greeting or an upload reply. Each is checked by answering it offline."""
        manifest = self._indexes.current().manifest
        key = (manifest.version, doc_id, limit)
        cached = self._examples.get(key)
        if cached is None:
            documents = [d for d in manifest.documents if doc_id in (None, d.doc_id)]
            topics = [s for d in documents for s in d.sections if s != LEAD_SECTION]
            topics += [d.title for d in documents if not d.title.endswith("\u2026")]
            cached = []
            for topic in dict.fromkeys(topics):
                if len(cached) == limit:
                    break
                question = f"What do the documents say about {topic.rstrip('.')}?"
                answer = self._prepare(question, None, ()).extractive
                if answer.grounded and doc_id in (None, answer.citations[0].document):
                    cached.append(question)
            self._examples = {k: v for k, v in self._examples.items() if k[0] == manifest.version}
            self._examples[key] = cached
        return list(cached)

    def _prepare(self, question: str, k: int | None, history: Sequence[Turn]) -> _Prepared:
        cleaned = self.check_question(question)
        standalone = self._llm.condense(cleaned, history) if self._llm and history else cleaned
        live = self._indexes.current()
        vector = self._embedder.embed_question(standalone)
        hits = live.searcher.search(standalone, vector, k or self._settings.top_k)
        evidence = EvidenceAnswerer(self._models, live.statistics).answer(
            standalone, vector, hits, live.sentences
        )
        scores = {hit.passage.chunk_id: hit.score for hit in hits}
        citations, text = self._cite(evidence.sentences, scores)
        if evidence.outcome is Outcome.NOT_COVERED:
            extractive = decline(cleaned, hits, None, MODE_EXTRACTIVE, evidence.confidence)
        elif not citations.all:
            note = "the sources changed since indexing; run `briefbot ingest`"
            extractive = decline(cleaned, hits, note, MODE_EXTRACTIVE, evidence.confidence)
        elif evidence.outcome is Outcome.ANSWERED:
            extractive = Answer(
                cleaned,
                text,
                True,
                MODE_EXTRACTIVE,
                citations.all,
                confidence=evidence.confidence,
            )
        else:
            extractive = Answer(
                cleaned,
                f"{NOT_EXACTLY} {text}",
                False,
                MODE_EXTRACTIVE,
                citations.all,
                suggestions=nearest_titles(hits),
                confidence=evidence.confidence,
            )
        return _Prepared(
            cleaned, standalone, live, hits, [hit.passage for hit in hits], extractive
        )

    def _fall_back(self, prepared: _Prepared, reason: str) -> Answer:
        log.warning("LLM answer unusable (%s); answering extractively", reason)
        return replace(prepared.extractive, fallback=reason)

    def _finish(self, prepared: _Prepared, text: str, regenerate: bool) -> Answer:
        """Check the model's answer; regenerate once when it broke the citation rule."""
        assert self._llm is not None
        if is_not_covered(text):
            return decline(prepared.question, prepared.hits, None, MODE_LLM)
        if leaks(text, self._llm.prompts.system, self._settings.secrets()):
            return self._fall_back(prepared, "leak")
        grounding = ground(text, prepared.passages)
        if regenerate and grounding.dropped > len(grounding.sentences):
            log.info(
                "regenerating: %d of %d sentences lacked valid citations",
                grounding.dropped,
                grounding.dropped + len(grounding.sentences),
            )
            try:
                retry = self._llm.complete(prepared.standalone, prepared.passages, remind=True)
            except LlmFailure as failure:
                return self._fall_back(prepared, failure.reason)
            return self._finish(prepared, retry, regenerate=False)
        answer = self._cited_llm_answer(prepared, grounding)
        return answer or self._fall_back(prepared, "no_valid_citation")

    def _cited_llm_answer(self, prepared: _Prepared, grounding: Grounding) -> Answer | None:
        """Number the cited passages in order of use, each with its best verbatim sentence."""
        citing: dict[int, list[str]] = {}
        for sentence in grounding.sentences:
            for index in sentence.passages:
                citing.setdefault(index, []).append(sentence.text)
        citations = Citations(self._settings.sources_dir)
        numbers: dict[int, int] = {}
        for index, texts in citing.items():
            hit = prepared.hits[index]
            quote = best_quote(texts, prepared.live.sentences[hit.passage.chunk_id])
            citation = citations.cite([quote], hit.score)
            if citation is not None:
                numbers[index] = citation.n
        parts = []
        for sentence in grounding.sentences:
            markers = "".join(f"[{numbers[i]}]" for i in sentence.passages if i in numbers)
            if markers:
                parts.append(f"{sentence.text} {markers}")
        if not parts:
            return None
        return Answer(prepared.question, " ".join(parts), True, MODE_LLM, citations.all)

    def _cite(
        self, chosen: Sequence[IndexedSentence], scores: dict[str, float]
    ) -> tuple[Citations, str]:
        """Number the passages used and quote the chosen sentences; a quote that is not
        verbatim in the source file is dropped with its sentences."""
        by_passage: dict[str, list[IndexedSentence]] = {}
        for sentence in chosen:
            by_passage.setdefault(sentence.passage.chunk_id, []).append(sentence)
        citations = Citations(self._settings.sources_dir)
        parts: list[str] = []
        for chunk_id, group in by_passage.items():
            citation = citations.cite(group, scores.get(chunk_id, 0.0))
            if citation is not None:
                parts.extend(f"{display_text(sentence.text)} [{citation.n}]" for sentence in group)
        return citations, " ".join(parts)


def check_question(question: str, limit: int) -> str:
    """The question with its whitespace folded, or QuestionError saying what is wrong."""
    cleaned = " ".join(question.split())
    if not cleaned:
        raise QuestionError("Please ask a question: the message was empty.")
    if len(cleaned) > limit:
        raise QuestionError(
            f"That question is {len(cleaned):,} characters long; please keep it under {limit:,}."
        )
    return cleaned


def nearest_titles(hits: Sequence[SearchHit]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(hit.passage.title for hit in hits))[:3]


def decline(
    question: str,
    hits: Sequence[SearchHit],
    note: str | None,
    mode: str,
    confidence: float | None = None,
) -> Answer:
    """The documents don't say: the answer names the closest documents instead."""
    nearest = nearest_titles(hits)
    covered = "; ".join(nearest)
    text = f"{NOT_COVERED} Closest documents: {covered}." if covered else NOT_COVERED
    return Answer(question, text, False, mode, (), nearest, note, confidence=confidence)
