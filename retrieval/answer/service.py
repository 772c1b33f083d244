"""Answering a question: retrieve, pick the sentences that answer it (or decline), and with an
LLM configured let the model write the answer under the same citation checks, the extractive
answer being its fallback."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from config import Settings
from retrieval.answer.citations import Citations, consecutive_runs, display_text
from retrieval.answer.grounding import (
    GroundedSentence,
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
from retrieval.llm.calls import Completion, Deadline, LlmFailure
from retrieval.llm.followup import reads_as_follow_up
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
from retrieval.reading import QuestionReader
from retrieval.sources.documents import LEAD_SECTION
from retrieval.text import ends_sentence

if TYPE_CHECKING:  # the client itself loads only in LLM mode (composition)
    from retrieval.llm.chat import ChatModel

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
        reader: QuestionReader,
        llm: ChatModel | None,
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._indexes = indexes
        self._models = models
        self._reader = reader
        self._llm = llm
        # by (index version, document, limit)
        self._examples: dict[tuple[int, str | None, int], list[str]] = {}

    def check_question(self, question: str) -> str:
        return check_question(question, self._settings.max_question_chars)

    def search(self, question: str, k: int | None = None) -> list[SearchHit]:
        live = self._indexes.current()
        question = self._reader.read(question, live.statistics).text
        vector = self._embedder.embed_question(question)
        return live.searcher.search(question, vector, k or self._settings.top_k)

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[Turn] = (),
        replying: bool = False,
    ) -> Answer:
        """Answer with the LLM when one is configured, else (or when it fails) extractively.
        In LLM mode everything the model is asked for one answer shares one deadline."""
        deadline = self._llm.deadline() if self._llm is not None else None
        prepared = self._prepare(question, k, history, deadline, replying)
        if self._llm is None or deadline is None or prepared.passages == []:
            return prepared.extractive
        started = time.monotonic()
        try:
            completion = self._llm.complete(
                prepared.standalone, prepared.passages, deadline=deadline
            )
        except LlmFailure as failure:
            return self._fall_back(prepared, failure.reason)
        return self._finish(prepared, completion, deadline, time.monotonic() - started)

    async def ask_streaming(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[Turn] = (),
        replying: bool = False,
    ) -> AsyncIterator[AnswerUpdate]:
        """Drafts of the answer as the model writes it, then the checked answer, always last.
        A draft holds only finished sentences that pass the checks the answer gets (so an echo
        of the prompt or an uncited claim is never shown). Offline, only the answer."""
        deadline = self._llm.deadline() if self._llm is not None else None
        prepared = await asyncio.to_thread(self._prepare, question, k, history, deadline, replying)
        if self._llm is None or deadline is None or prepared.passages == []:
            yield AnswerUpdate(answer=prepared.extractive)
            return
        started = time.monotonic()
        secrets = self._settings.secrets()
        completion = Completion("")
        previewing = True
        sentence_ends = 0
        shown = ""
        try:
            async for completion in self._llm.stream(
                prepared.standalone, prepared.passages, deadline
            ):
                # Never show the instructions or a key being recited.
                previewing = previewing and not leaks(
                    completion.text, self._llm.prompts.system, secrets
                )
                ends = len(_SENTENCE_END.findall(completion.text))
                if not previewing or (ends == sentence_ends and not completion.done):
                    continue  # nothing new is finished: no need to check again
                sentence_ends = ends
                draft = self._draft(prepared, completion)
                if draft and draft != shown:
                    shown = draft
                    yield AnswerUpdate(draft=draft)
        except LlmFailure as failure:
            yield AnswerUpdate(answer=self._fall_back(prepared, failure.reason))
            return
        elapsed = time.monotonic() - started
        answer = await asyncio.to_thread(self._finish, prepared, completion, deadline, elapsed)
        yield AnswerUpdate(answer=answer)

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

    def _prepare(
        self,
        question: str,
        k: int | None,
        history: Sequence[Turn],
        deadline: Deadline | None = None,
        replying: bool = False,
    ) -> _Prepared:
        """Retrieval and the extractive answer. A message is read with the conversation when
        it reads as a follow-up, or when it is a reply to one of the bot's answers."""
        cleaned = self.check_question(question)
        standalone = cleaned
        if self._llm is not None and history and (replying or reads_as_follow_up(cleaned)):
            standalone = self._llm.condense(cleaned, history, deadline)
        # Retrieval and the extractive answer read capitals in lower case and a misspelt word
        # as the corpus's; the model gets the question as typed, acronyms and all ("WHAT DID
        # THE WHO SAY?").
        live = self._indexes.current()
        reading = self._reader.read(standalone, live.statistics)
        vector, latent = self._embedder.embed_question_and_terms(reading.text)
        hits = live.searcher.search(reading.text, vector, k or self._settings.top_k)
        evidence = EvidenceAnswerer(self._models, live.statistics).answer(
            reading, vector, latent.result(), hits, live.sentences
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
            cleaned,
            standalone,
            live,
            hits,
            [hit.passage for hit in hits],
            replace(extractive, read_as=reading.read_as),
        )

    def _fall_back(self, prepared: _Prepared, reason: str) -> Answer:
        log.warning("LLM answer unusable (%s); answering extractively", reason)
        return replace(prepared.extractive, fallback=reason)

    def _ground(self, prepared: _Prepared, text: str, **options: bool) -> Grounding:
        assert self._llm is not None
        return ground(
            text,
            prepared.passages,
            statistics=prepared.live.statistics,
            prompts=self._llm.prompts.texts(),
            **options,
        )

    def _draft(self, prepared: _Prepared, completion: Completion) -> str:
        """The finished sentences of a reply being written that pass every check (their
        citations are numbered in the answer that follows)."""
        if is_not_covered(completion.text):
            return ""
        grounding = self._ground(
            prepared,
            completion.text,
            partial=not completion.done,
            truncated=completion.truncated,
        )
        return " ".join(sentence.text for sentence in grounding.sentences)

    def _finish(
        self,
        prepared: _Prepared,
        completion: Completion,
        deadline: Deadline,
        elapsed: float,
        regenerate: bool = True,
    ) -> Answer:
        """Check the model's answer; regenerate once when it broke the citation rule and the
        deadline leaves time for it (`elapsed`: what the first reply took)."""
        assert self._llm is not None
        text = completion.text
        if is_not_covered(text):
            declined = decline(prepared.question, prepared.hits, None, MODE_LLM)
            return replace(declined, read_as=prepared.extractive.read_as)
        if leaks(text, self._llm.prompts.system, self._settings.secrets()):
            return self._fall_back(prepared, "leak")
        grounding = self._ground(prepared, text, truncated=completion.truncated)
        if grounding.dropped:
            log.info(
                "dropped %d of %d sentences of the model's answer (%s)%s",
                grounding.dropped,
                grounding.dropped + len(grounding.sentences),
                grounding.describe(),
                "; it was cut off at max_tokens" if completion.truncated else "",
            )
        if regenerate and grounding.uncited > len(grounding.sentences):
            if deadline.remaining() <= elapsed:
                log.info("no time left before the deadline to regenerate the answer")
            else:
                log.info("regenerating: the answer broke the citation rule")
                try:
                    retry = self._llm.complete(
                        prepared.standalone, prepared.passages, remind=True, deadline=deadline
                    )
                except LlmFailure as failure:
                    return self._fall_back(prepared, failure.reason)
                return self._finish(prepared, retry, deadline, elapsed, regenerate=False)
        answer = self._cited_llm_answer(prepared, grounding)
        return answer or self._fall_back(prepared, "no_valid_citation")

    def _cited_llm_answer(self, prepared: _Prepared, grounding: Grounding) -> Answer | None:
        """Number the cited passages in order of use, each with its best verbatim sentence."""
        citing: dict[int, list[str]] = {}
        for sentence in grounding.sentences:
            for index in sentence.passages:
                citing.setdefault(index, []).append(sentence.text)
        citations = Citations(self._settings.sources_dir, self._indexes.store.stored_text)
        numbers: dict[int, int] = {}
        for index, texts in citing.items():
            hit = prepared.hits[index]
            quote = best_quote(texts, prepared.live.sentences[hit.passage.chunk_id])
            citation = citations.cite([quote], hit.score)
            if citation is not None:
                numbers[index] = citation.n
        parts = [
            _with_markers(sentence, numbers)
            for sentence in grounding.sentences
            if any(i in numbers for i in sentence.passages)
        ]
        if not parts:
            return None
        return Answer(
            prepared.question,
            " ".join(parts),
            True,
            MODE_LLM,
            citations.all,
            read_as=prepared.extractive.read_as,  # how the passages were searched for
        )

    def _cite(
        self, chosen: Sequence[IndexedSentence], scores: dict[str, float]
    ) -> tuple[Citations, str]:
        """Number the quotes and quote the chosen sentences, one quote for each run of
        consecutive sentences of a passage; a quote that is not verbatim in the source file is
        dropped with its sentences."""
        citations = Citations(self._settings.sources_dir, self._indexes.store.stored_text)
        parts: list[str] = []
        for run in consecutive_runs(chosen):
            citation = citations.cite(run, scores.get(run[0].passage.chunk_id, 0.0))
            if citation is not None:
                parts.extend(f"{display_text(sentence.text)} [{citation.n}]" for sentence in run)
        return citations, " ".join(parts)


# Where a sentence may have been finished: a sentence end, or a citation closed.
_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f]\s|\]")


def _with_markers(sentence: GroundedSentence, numbers: dict[int, int]) -> str:
    markers = "".join(f"[{numbers[i]}]" for i in sentence.passages if i in numbers)
    return f"{sentence.text} {markers}"


def check_question(question: str, limit: int) -> str:
    """The question with its whitespace folded, or QuestionError saying what is wrong.

    Bytes that were not UTF-8 (a shell argument arrives with them as lone surrogates) become
    U+FFFD: the tokenizers, SQLite and the terminal all refuse lone surrogates."""
    readable = question.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    cleaned = " ".join(readable.split())
    if not cleaned:
        raise QuestionError("Please ask a question: the message was empty.", "empty")
    if not any(character.isalnum() for character in cleaned):
        # Emoji or punctuation alone: nothing to search for, and any passage would "match".
        raise QuestionError(
            "Please ask a question in words: the message has no letters or digits.", "no_words"
        )
    if len(cleaned) > limit:
        raise QuestionError(
            f"That question is {len(cleaned):,} characters long; please keep it under {limit:,}.",
            "too_long",
            length=len(cleaned),
            limit=limit,
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
    # A title cut short ends in "…" already: no full stop after it.
    stop = "" if ends_sentence(covered) else "."
    text = f"{NOT_COVERED} Closest documents: {covered}{stop}" if covered else NOT_COVERED
    return Answer(question, text, False, mode, (), nearest, note, confidence=confidence)
