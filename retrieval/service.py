"""The one service every front end calls: ingest, ask, list sources.

It serves one immutable `LiveIndex` at a time and swaps it by a single assignment, so a
question always sees one complete index version.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from config import Settings
from retrieval.answer import Answer, Citation, ExtractiveAnswerer, IndexedSentence
from retrieval.documents import LEAD_SECTION, Passage, decode_source, sha256
from retrieval.embedders import Embedder, make_embedder
from retrieval.errors import DocumentError, IndexUnavailableError, IngestError, QuestionError
from retrieval.ingest import Ingestor, IngestReport
from retrieval.search import HybridSearcher, SearchHit
from retrieval.store import IndexStore, Manifest, open_chroma
from retrieval.text import terms
from retrieval.vector_cache import VectorCache

log = logging.getLogger(__name__)

NOT_COVERED = "The documents don't cover this."
MODE_EXTRACTIVE = "extractive"
_WORD_IN_CAPS = re.compile(r"(?<=[\w,;:]\s)([A-Z][\w'\u2019-]*)")


@dataclass(frozen=True, slots=True)
class LiveIndex:
    manifest: Manifest
    searcher: HybridSearcher
    sentences: dict[str, tuple[IndexedSentence, ...]]  # by chunk id
    answerer: ExtractiveAnswerer


class KnowledgeBase:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: IndexStore,
        cache: VectorCache,
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._store = store
        self._cache = cache
        self._ingestor = Ingestor(
            settings.sources_dir,
            store,
            cache,
            embedder,
            settings.chunk_chars,
            settings.max_document_bytes,
        )
        self._live: LiveIndex | None = None
        self._examples: dict[int, list[str]] = {}  # by index version

    @classmethod
    def open(cls, settings: Settings) -> KnowledgeBase:
        """Open the on-disk index under the data dir (nothing is built until asked)."""
        embedder = make_embedder(settings.embedder)
        client = open_chroma(settings.chroma_dir)
        store = IndexStore(client, settings.data_dir / "index", embedder)
        return cls(settings, embedder, store, VectorCache(settings.data_dir / "vectors.sqlite"))

    def close(self) -> None:
        self._cache.close()

    # -- indexing -------------------------------------------------------------------------

    def ingest(self) -> IngestReport:
        """Re-read the sources; publish and serve a new version if anything changed."""
        report = self._ingestor.run()
        if self._live is None or self._live.manifest.version != report.version:
            self._live = self._load(self._require_manifest())
        return report

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
            document_terms.setdefault(passage.doc_id, set()).update(
                terms(f"{passage.title} {passage.section} {passage.text}")
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
                        frozenset(terms(text)),
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

    def example_questions(self, limit: int = 3) -> list[str]:
        """Questions the documents answer, from their section headings (or titles): for a
        greeting that shows what to ask. Each one is checked by answering it."""
        manifest = self._live_index().manifest
        cached = self._examples.get(manifest.version)
        if cached is None:
            topics = [
                section
                for doc in manifest.documents
                for section in doc.sections
                if section != LEAD_SECTION
            ]
            topics += [doc.title for doc in manifest.documents if not doc.title.endswith("\u2026")]
            cached = []
            for topic in dict.fromkeys(topics):
                if len(cached) == limit:
                    break
                question = f"What do the documents say about {topic.rstrip('.')}?"
                if self.ask(question).grounded:
                    cached.append(question)
            self._examples = {manifest.version: cached}
        return list(cached)

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

    def ask(self, question: str, k: int | None = None) -> Answer:
        cleaned = self.check_question(question)
        live = self._live_index()
        vector = self._embedder.embed_question(cleaned)
        hits = live.searcher.search(cleaned, vector, k or self._settings.top_k)
        candidates = [s for hit in hits for s in live.sentences[hit.passage.chunk_id]]
        chosen = live.answerer.select(cleaned, vector, hits, candidates)
        scores = {hit.passage.chunk_id: hit.score for hit in hits}
        citations, text = self._cite(chosen, scores)
        if not citations:
            note = "the sources changed since indexing; run `briefbot ingest`" if chosen else None
            return self._decline(cleaned, hits, note)
        return Answer(cleaned, text, True, MODE_EXTRACTIVE, tuple(citations))

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
            passage = group[0].passage
            start, end = group[0].span.start, group[-1].span.end
            quote = passage.text[start - passage.start : end - passage.start]
            if not self._verify(passage, start, end, quote, sources):
                log.warning(
                    "dropped a citation of %s: not verbatim at %d-%d", passage.doc_id, start, end
                )
                continue
            number = len(citations) + 1
            citations.append(
                Citation(
                    n=number,
                    document=passage.doc_id,
                    title=passage.title,
                    section=passage.section,
                    chunk_id=passage.chunk_id,
                    quote=quote,
                    start=start,
                    end=end,
                    score=scores.get(passage.chunk_id, 0.0),
                    date=passage.date,
                )
            )
            parts.extend(f"{sentence.text} [{number}]" for sentence in group)
        return citations, " ".join(parts)

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

    def _decline(self, question: str, hits: Sequence[SearchHit], note: str | None) -> Answer:
        nearest = list(dict.fromkeys(hit.passage.title for hit in hits))[:3]
        covered = "; ".join(nearest)
        text = f"{NOT_COVERED} Closest documents: {covered}." if covered else NOT_COVERED
        return Answer(question, text, False, MODE_EXTRACTIVE, (), tuple(nearest), note)
