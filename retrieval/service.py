"""The one service every front end calls: ingest, ask, list sources.

It serves one immutable `LiveIndex` at a time and swaps it by a single assignment, so a
question always sees one complete index version.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, replace

from config import Settings
from retrieval.answer import (
    Answer,
    Citation,
    ExtractiveAnswerer,
    IndexedSentence,
    term_matches,
)
from retrieval.briefing import Briefing, BriefingPoint, build_briefing, parse_sections
from retrieval.documents import LEAD_SECTION, Passage, decode_source, sha256
from retrieval.embedders import Embedder, make_embedder
from retrieval.errors import DocumentError, IndexUnavailableError, IngestError, QuestionError
from retrieval.grounding import (
    NOT_COVERED_MARK,
    Grounding,
    best_quote,
    ground,
    is_not_covered,
    leaks,
)
from retrieval.ingest import Ingestor, IngestReport
from retrieval.llm import ChatModel, LlmFailure, Turn
from retrieval.prompting import load_prompts
from retrieval.search import HybridSearcher, SearchHit
from retrieval.store import IndexStore, Manifest, open_chroma
from retrieval.text import acronym_terms, terms
from retrieval.vector_cache import VectorCache

log = logging.getLogger(__name__)

NOT_COVERED = "The documents don't cover this."
MODE_EXTRACTIVE = "extractive"
MODE_LLM = "llm"
BRIEF_PASSAGES = 12  # passages an LLM briefing is written from
TOPIC_MARGIN = 0.03  # how much less similar to a topic than the closest sentence is still on it
TOPIC_TERM_SHARE = 0.25  # a topic word in more sentences than this names nothing in particular
_WORD_IN_CAPS = re.compile(r"(?<=[\w,;:]\s)([A-Z][\w'\u2019-]*)")


@dataclass(frozen=True, slots=True)
class LiveIndex:
    manifest: Manifest
    searcher: HybridSearcher
    sentences: dict[str, tuple[IndexedSentence, ...]]  # by chunk id
    answerer: ExtractiveAnswerer


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A question after retrieval, with its extractive answer (the fallback)."""

    question: str  # as asked, cleaned
    standalone: str  # rewritten from the conversation when it is a follow-up
    live: LiveIndex
    hits: list[SearchHit]
    passages: list[Passage]  # what the model is given, numbered from 1
    extractive: Answer


class KnowledgeBase:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: IndexStore,
        cache: VectorCache,
        llm: ChatModel | None = None,
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._store = store
        self._cache = cache
        self._llm = llm
        self._ingestor = Ingestor(
            settings.sources_dir,
            store,
            cache,
            embedder,
            settings.chunk_chars,
            settings.max_document_bytes,
        )
        self._live: LiveIndex | None = None
        # by (index version, document, limit)
        self._examples: dict[tuple[int, str | None, int], list[str]] = {}

    @classmethod
    def open(cls, settings: Settings) -> KnowledgeBase:
        """Open the on-disk index under the data dir (nothing is built until asked)."""
        embedder = make_embedder(settings)
        client = open_chroma(settings.chroma_dir)
        store = IndexStore(client, settings.data_dir / "index", embedder)
        # Prompts are loaded (and checked) now, so a broken prompt file stops the start.
        llm = (
            ChatModel(settings, load_prompts(settings.prompts_dir))
            if settings.llm_enabled
            else None
        )
        cache = VectorCache(settings.data_dir / "vectors.sqlite")
        return cls(settings, embedder, store, cache, llm)

    @property
    def mode(self) -> str:
        return MODE_LLM if self._llm is not None else MODE_EXTRACTIVE

    def close(self) -> None:
        self._cache.close()

    # -- indexing -------------------------------------------------------------------------

    def ingest(self, wait: bool = True) -> IngestReport:
        """Re-read the sources; publish and serve a new version if anything changed.
        Questions meanwhile are answered from the version being replaced."""
        report = self._ingestor.run(wait)
        if self._live is None or self._live.manifest.version != report.version:
            self._live = self._load(self._require_manifest())
        return report

    def rollback(self) -> Manifest:
        """Serve the previous index version again (until the next reload)."""
        with self._store.writer_lock(wait=False):
            manifest = self._store.rollback()
        self._live = self._load(manifest)
        return manifest

    def ensure_index(self) -> IngestReport | None:
        """Bring the index up to date; with a bad source, keep serving the last good one."""
        try:
            return self.ingest()
        except IngestError as error:
            if self._store.current() is None:
                raise
            log.warning("answering from the last good index: %s", error)
            self._live = self._live or self._load(self._require_manifest())
            return None

    def manifest(self) -> Manifest:
        return self._live_index().manifest

    def _require_manifest(self) -> Manifest:
        manifest = self._store.current()
        if manifest is None:
            raise IndexUnavailableError("nothing is indexed yet; run `briefbot ingest`")
        return manifest

    def _live_index(self) -> LiveIndex:
        """The index to answer from; follows a newer version published by another process."""
        live = self._live
        if live is None or self._store.current_version() not in (None, live.manifest.version):
            live = self._live = self._load(self._require_manifest())
        return live

    def _load(self, manifest: Manifest) -> LiveIndex:
        if manifest.embedder != self._embedder.identity:
            raise IndexUnavailableError(
                f"the index was built with {manifest.embedder}, not {self._embedder.identity}; "
                "run `briefbot ingest` to re-index"
            )
        searcher = HybridSearcher(
            self._store, manifest, self._settings.vector_weight, self._settings.lexical_weight
        )
        texts = [
            passage.text[s.start - passage.start : s.end - passage.start]
            for passage in searcher.passages
            for s in passage.sentences
        ]
        vectors, _ = self._cache.embed(self._embedder, texts)
        sentences: dict[str, tuple[IndexedSentence, ...]] = {}
        capitalised: Counter[str] = Counter()
        lowercase: Counter[str] = Counter()
        document_terms: dict[str, set[str]] = {}
        for passage in searcher.passages:
            whole = f"{passage.title}\n{passage.section}\n{passage.text}"
            document_terms.setdefault(passage.doc_id, set()).update(
                terms(whole) + acronym_terms(whole)
            )
        frozen_terms = {doc_id: frozenset(found) for doc_id, found in document_terms.items()}
        for passage in searcher.passages:
            context = frozenset(terms(f"{passage.title} {passage.section}"))
            records = []
            for position, span in enumerate(passage.sentences):
                text = passage.text[span.start - passage.start : span.end - passage.start]
                records.append(
                    IndexedSentence(
                        passage,
                        position,
                        span,
                        text,
                        frozenset(terms(text) + acronym_terms(text)),
                        context,
                        frozen_terms[passage.doc_id],
                        vectors[sha256(text)],
                    )
                )
                capital_words = set(_WORD_IN_CAPS.findall(text))
                for word in re.findall(r"[^\W\d_][\w'\u2019-]*", text[1:]):
                    (capitalised if word in capital_words else lowercase).update(terms(word))
            sentences[passage.chunk_id] = tuple(records)
        proper_nouns = frozenset(t for t, n in capitalised.items() if n > 2 * lowercase[t])
        return LiveIndex(manifest, searcher, sentences, ExtractiveAnswerer(proper_nouns))

    def example_questions(self, limit: int = 3, doc_id: str | None = None) -> list[str]:
        """Questions the documents (or one document) answer, from section headings and
        titles: for a greeting or an upload reply. Each is checked by answering it offline."""
        manifest = self._live_index().manifest
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

    def brief(
        self, topic: str | None = None, documents: Collection[str] | None = None
    ) -> Briefing:
        """A structured, cited overview of all documents (or of `documents`, by id), or of
        what they say on a topic."""
        live = self._live_index()
        sentences = [s for group in live.sentences.values() for s in group]
        if documents is not None:
            sentences = [s for s in sentences if s.passage.doc_id in documents]
        if topic is not None:
            topic = self.check_question(topic)
            on_topic = {id(s) for s in self._on_topic(live, topic)}
            sentences = [s for s in sentences if id(s) in on_topic]
        sources: dict[str, str | None] = {}
        extractive = build_briefing(
            topic,
            live.manifest.version,
            sentences,
            lambda sentence, number: self._quote([sentence], number, 0.0, sources),
        )
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

    def _llm_briefing(
        self, text: str, passages: list[Passage], live: LiveIndex, extractive: Briefing
    ) -> Briefing | None:
        """The model's briefing, each item kept only if it cites a given passage and its
        numbers are there; None without a valid bottom line."""
        sources: dict[str, str | None] = {}
        numbered = 0

        def points(items: list[str]) -> tuple[BriefingPoint, ...]:
            nonlocal numbered
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
                citation = self._quote([quote], numbered + 1, 0.0, sources)
                if citation is not None:
                    numbered += 1
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

    def _on_topic(self, live: LiveIndex, topic: str) -> list[IndexedSentence]:
        """Sentences of the passages retrieved for the topic that name it, or are about as
        close to it as the closest one."""
        vector = self._embedder.embed_question(topic)
        hits = live.searcher.search(topic, vector, max(self._settings.top_k, 8))
        candidates = [s for hit in hits for s in live.sentences[hit.passage.chunk_id]]
        if not candidates:
            return []
        # Nothing of the topic (not even a stem or an alias) in what was retrieved: the
        # documents do not cover it, however similar the closest sentences look.
        words_of_topic = terms(topic)
        named = [
            s
            for s in candidates
            if any(term_matches(t, s.terms | s.context_terms) for t in words_of_topic)
        ]
        if not named:
            return []
        # Words of the topic that most sentences contain ("U.S." here) do not pick any out.
        everything = [s for group in live.sentences.values() for s in group]
        rare = {
            term
            for term in words_of_topic
            if sum(term in s.terms for s in everything) <= TOPIC_TERM_SHARE * len(everything)
        }
        similarity = {id(s): float(s.vector @ vector) for s in candidates}
        best = max(similarity[id(s)] for s in named)
        return [
            s
            for s in candidates
            if rare & (s.terms | s.context_terms) or similarity[id(s)] >= best - TOPIC_MARGIN
        ]

    # -- answering ------------------------------------------------------------------------

    def check_question(self, question: str) -> str:
        cleaned = " ".join(question.split())
        if not cleaned:
            raise QuestionError("Please ask a question: the message was empty.")
        limit = self._settings.max_question_chars
        if len(cleaned) > limit:
            raise QuestionError(
                f"That question is {len(cleaned):,} characters long; "
                f"please keep it under {limit:,}."
            )
        return cleaned

    def search(self, question: str, k: int | None = None) -> list[SearchHit]:
        live = self._live_index()
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
    ) -> AsyncIterator[str | Answer]:
        """The answer text so far as the model writes it (unchecked, for display only), then
        the checked Answer, always last. Offline, only the Answer."""
        prepared = await asyncio.to_thread(self._prepare, question, k, history)
        if self._llm is None or prepared.passages == []:
            yield prepared.extractive
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
                    yield text
        except LlmFailure as failure:
            yield self._fall_back(prepared, failure.reason)
            return
        yield await asyncio.to_thread(self._finish, prepared, text, True)

    def _prepare(self, question: str, k: int | None, history: Sequence[Turn]) -> _Prepared:
        cleaned = self.check_question(question)
        standalone = self._llm.condense(cleaned, history) if self._llm and history else cleaned
        live = self._live_index()
        vector = self._embedder.embed_question(standalone)
        hits = live.searcher.search(standalone, vector, k or self._settings.top_k)
        candidates = [s for hit in hits for s in live.sentences[hit.passage.chunk_id]]
        chosen = live.answerer.select(standalone, vector, hits, candidates)
        scores = {hit.passage.chunk_id: hit.score for hit in hits}
        citations, text = self._cite(chosen, scores)
        if citations:
            extractive = Answer(cleaned, text, True, MODE_EXTRACTIVE, tuple(citations))
        else:
            note = "the sources changed since indexing; run `briefbot ingest`" if chosen else None
            extractive = self._decline(cleaned, hits, note, MODE_EXTRACTIVE)
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
            return self._decline(prepared.question, prepared.hits, None, MODE_LLM)
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
        sources: dict[str, str | None] = {}
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        for index, texts in citing.items():
            hit = prepared.hits[index]
            quote = best_quote(texts, prepared.live.sentences[hit.passage.chunk_id])
            citation = self._quote([quote], len(citations) + 1, hit.score, sources)
            if citation is not None:
                numbers[index] = citation.n
                citations.append(citation)
        parts = []
        for sentence in grounding.sentences:
            markers = "".join(f"[{numbers[i]}]" for i in sentence.passages if i in numbers)
            if markers:
                parts.append(f"{sentence.text} {markers}")
        if not parts:
            return None
        return Answer(prepared.question, " ".join(parts), True, MODE_LLM, tuple(citations))

    def _cite(
        self, chosen: Sequence[IndexedSentence], scores: dict[str, float]
    ) -> tuple[list[Citation], str]:
        """Number the passages used, quote the chosen sentences, and drop any quote that is
        not verbatim in the source file at its offsets."""
        by_passage: dict[str, list[IndexedSentence]] = {}
        for sentence in chosen:
            by_passage.setdefault(sentence.passage.chunk_id, []).append(sentence)
        sources: dict[str, str | None] = {}
        citations: list[Citation] = []
        parts: list[str] = []
        for group in by_passage.values():
            chunk_id = group[0].passage.chunk_id
            citation = self._quote(group, len(citations) + 1, scores.get(chunk_id, 0.0), sources)
            if citation is not None:
                citations.append(citation)
                parts.extend(f"{sentence.text} [{citation.n}]" for sentence in group)
        return citations, " ".join(parts)

    def _quote(
        self,
        group: Sequence[IndexedSentence],
        number: int,
        score: float,
        sources: dict[str, str | None],
    ) -> Citation | None:
        """A citation quoting consecutive sentences of one passage, if the quote is verbatim
        in the source file at its offsets (else it is dropped, never shown)."""
        passage = group[0].passage
        start, end = group[0].span.start, group[-1].span.end
        quote = passage.text[start - passage.start : end - passage.start]
        if not self._verify(passage, start, end, quote, sources):
            log.warning(
                "dropped a citation of %s: not verbatim at %d-%d", passage.doc_id, start, end
            )
            return None
        return Citation(
            n=number,
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

    def _verify(
        self, passage: Passage, start: int, end: int, quote: str, sources: dict[str, str | None]
    ) -> bool:
        if passage.doc_id not in sources:
            try:
                sources[passage.doc_id] = decode_source(
                    (self._settings.sources_dir / passage.doc_id).read_bytes()
                )
            except (OSError, DocumentError):
                sources[passage.doc_id] = None
        text = sources[passage.doc_id]
        return text is not None and text[start:end] == quote

    def _decline(
        self, question: str, hits: Sequence[SearchHit], note: str | None, mode: str
    ) -> Answer:
        nearest = list(dict.fromkeys(hit.passage.title for hit in hits))[:3]
        covered = "; ".join(nearest)
        text = f"{NOT_COVERED} Closest documents: {covered}." if covered else NOT_COVERED
        return Answer(question, text, False, mode, (), tuple(nearest), note)
