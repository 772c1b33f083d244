"""The index version that questions are answered from, and its lifecycle: reload, rollback,
and following a version another process published.

One immutable `LiveIndex` is served at a time and swapped by a single assignment, so a
question always sees one complete index version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from config import Settings
from retrieval.errors import IndexUnavailableError, IngestError
from retrieval.index.embedders import Embedder
from retrieval.index.ingest import Ingestor
from retrieval.index.search import HybridSearcher
from retrieval.index.sentences import corpus_statistics, index_sentences, sentence_text
from retrieval.index.store import IndexStore
from retrieval.index.vector_cache import VectorCache
from retrieval.models import (
    CorpusStatistics,
    IndexedSentence,
    IngestProgress,
    IngestReport,
    Manifest,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveIndex:
    manifest: Manifest
    searcher: HybridSearcher
    sentences: dict[str, tuple[IndexedSentence, ...]]  # by chunk id
    statistics: CorpusStatistics

    def all_sentences(self) -> list[IndexedSentence]:
        return [sentence for group in self.sentences.values() for sentence in group]


class LiveIndexes:
    """Keeps the live index version: builds it on reload or rollback, and follows a newer
    version another process (the CLI, another bot) published."""

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
            settings.passage_vectors,
        )
        self._live: LiveIndex | None = None

    @property
    def store(self) -> IndexStore:
        return self._store

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def close(self) -> None:
        self._cache.close()
        self._store.close()

    def ingest(self, wait: bool = True, progress: IngestProgress | None = None) -> IngestReport:
        """Re-read the sources; publish and serve a new version if anything changed.
        Questions meanwhile are answered from the version being replaced. progress: see
        `Ingestor.run`."""
        report = self._ingestor.run(wait, progress)
        if self._live is None or self._live.manifest.version != report.version:
            self._live = self._load(self._require_manifest())
        return report

    def rollback(self) -> Manifest:
        """Serve the previous index version again (until the next reload)."""
        with self._store.writer_lock(wait=False):
            manifest = self._store.rollback()
        self._live = self._load(manifest)
        return manifest

    def ensure(self) -> IngestReport | None:
        """Bring the index up to date; with a bad source, keep serving the last good one."""
        try:
            return self.ingest()
        except IngestError as error:
            if self._store.current() is None:
                raise
            log.warning("answering from the last good index: %s", error)
            self._live = self._live or self._load(self._require_manifest())
            return None

    def current(self) -> LiveIndex:
        """The index to answer from; follows a newer version published by another process."""
        live = self._live
        if live is None or self._store.current_version() not in (None, live.manifest.version):
            live = self._live = self._load(self._require_manifest())
        return live

    def _require_manifest(self) -> Manifest:
        manifest = self._store.current()
        if manifest is None:
            raise IndexUnavailableError(
                "nothing is indexed yet; run `briefbot ingest`", "nothing_indexed"
            )
        return manifest

    def _load(self, manifest: Manifest) -> LiveIndex:
        if manifest.embedder != self._embedder.identity:
            raise IndexUnavailableError(
                f"the index was built with {manifest.embedder}, not {self._embedder.identity}; "
                "run `briefbot ingest` to re-index",
                "embedder_changed",
                built_with=manifest.embedder,
                embedder=self._embedder.identity,
            )
        passages = self._store.passages(manifest)
        texts = [
            sentence_text(passage, index)
            for passage in passages
            for index in range(len(passage.sentences))
        ]
        # The ingest that published this version computed both, unless it ran in another
        # process or an older release (no latent terms): then they are computed here, once.
        vectors, latent, _ = self._cache.embed_sentences(self._embedder, texts, texts)
        sentences = index_sentences(passages, vectors, latent)
        searcher = HybridSearcher(
            self._store,
            manifest,
            passages,
            sentences,
            vector_weight=self._settings.vector_weight,
            lexical_weight=self._settings.lexical_weight,
            sentence_weight=self._settings.sentence_weight,
        )
        statistics = corpus_statistics([s for group in sentences.values() for s in group])
        return LiveIndex(manifest, searcher, sentences, statistics)
