"""Ingest: read every source, cut passages, embed what is new, publish a new index version.

All files are read and checked before anything is written, so a bad file leaves the live
index exactly as it was.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from config import PassageVectors
from retrieval.errors import DocumentError, IndexUnavailableError, IngestError
from retrieval.index.embedders import Embedder
from retrieval.index.store import IndexStore
from retrieval.index.vector_cache import VectorCache
from retrieval.models import (
    DocumentInfo,
    IngestProgress,
    IngestReport,
    Manifest,
    Matrix,
    Passage,
    SourceDocument,
)
from retrieval.sources.documents import (
    SUPPORTED_SUFFIXES,
    cut_passages,
    discover_sources,
    parse_document,
    read_source_text,
    sha256,
)

# The title/section's weight in a passage's vector, over its share by length. Embedded with
# the passage, a title colours every token of it; 3 kept held-out answers closest to that
# recipe's of the variants tried (weights 0, 1 and 3, and equal weights for every sentence;
# docs/benchmarks-ingest.md).
CONTEXT_WEIGHT = 3.0


def _stamped(infos: list[DocumentInfo], previous: Manifest | None) -> list[DocumentInfo]:
    """Carry each document's added/updated times over from the previous version."""
    before = {doc.doc_id: doc for doc in previous.documents} if previous else {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    stamped = []
    for info in infos:
        old = before.get(info.doc_id)
        if old is None or not old.added_at:
            stamped.append(replace(info, added_at=now, updated_at=now))
        elif old.content_hash == info.content_hash:
            stamped.append(replace(info, added_at=old.added_at, updated_at=old.updated_at))
        else:
            stamped.append(replace(info, added_at=old.added_at, updated_at=now))
    return stamped


def embedding_text(passage: Passage) -> str:
    """The passage's own text with its title and section: what was embedded for a passage
    before passage vectors were made from its sentences' ("embedded" recipe)."""
    return "\n".join(part for part in (passage.title, passage.section, passage.text) if part)


def context_text(passage: Passage) -> str:
    """The passage's document title and section ("" when it has neither): embedded once per
    distinct title/section and folded into the passage's vector."""
    return "\n".join(part for part in (passage.title, passage.section) if part)


def sentence_texts(passage: Passage, source_text: str) -> list[str]:
    return [span.of(source_text) for span in passage.sentences]


def texts_to_embed(passage: Passage, source_text: str, recipe: PassageVectors) -> list[str]:
    """What an ingest embeds for one passage under a passage-vector recipe."""
    sentences = sentence_texts(passage, source_text)
    if recipe == "embedded":
        return [*sentences, embedding_text(passage)]
    context = context_text(passage)
    return [*sentences, context] if context else sentences


def passage_vector(
    passage: Passage, source_text: str, vectors_by_hash: dict[str, Matrix]
) -> Matrix:
    """The "sentences" recipe: the mean of the passage's sentence vectors and its context
    vector, each weighted by its length in characters (e5 mean-pools over tokens, so a text's
    share of a passage's vector is about its share of the tokens), the context's times
    CONTEXT_WEIGHT; normalised."""
    sentences = sentence_texts(passage, source_text)
    context = context_text(passage)
    parts = [*sentences, context] if context else sentences
    weights = np.asarray([max(len(text), 1) for text in parts], dtype=np.float32)
    if context:
        weights[-1] *= CONTEXT_WEIGHT
    stacked = np.stack([vectors_by_hash[sha256(text)] for text in parts])
    mean = (weights[:, None] * stacked).sum(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / (norm if norm > 0 else 1.0)).astype(np.float32)


class Ingestor:
    def __init__(
        self,
        sources_dir: Path,
        store: IndexStore,
        cache: VectorCache,
        embedder: Embedder,
        chunk_chars: int,
        max_document_bytes: int,
        passage_vectors: PassageVectors = "sentences",
    ) -> None:
        """passage_vectors (BRIEFBOT_PASSAGE_VECTORS): how a passage's vector is made.
        "sentences": from its sentences' vectors (which answering needs anyway) and its
        title/section's, so its text is not embedded a second time, about half the tokens;
        "embedded": its embedding_text embedded on its own (docs/benchmarks-ingest.md)."""
        self._sources_dir = sources_dir
        self._store = store
        self._cache = cache
        self._embedder = embedder
        self._chunk_chars = chunk_chars
        self._max_document_bytes = max_document_bytes
        self._passage_vectors = passage_vectors

    def read_sources(self, progress: IngestProgress | None = None) -> list[SourceDocument]:
        """Every source document, or IngestError naming each file that cannot be used.
        progress, when given, is told "reading" after each file."""
        if not self._sources_dir.is_dir():
            raise IngestError(
                f"the sources dir {self._sources_dir} does not exist",
                reason="no_sources_dir",
                path=str(self._sources_dir),
            )
        paths = discover_sources(self._sources_dir)
        if not paths:
            kinds, last = ", ".join(SUPPORTED_SUFFIXES[:-1]), SUPPORTED_SUFFIXES[-1]
            raise IngestError(
                f"the sources dir {self._sources_dir} has no {kinds} or {last} files",
                reason="no_sources",
                path=str(self._sources_dir),
                kinds=kinds,
                last=last,
            )
        documents: list[SourceDocument] = []
        failures: dict[str, DocumentError] = {}
        if progress is not None:
            progress("reading", 0, len(paths))
        for done, path in enumerate(paths, start=1):
            doc_id = path.relative_to(self._sources_dir).as_posix()
            try:
                text = read_source_text(path, self._max_document_bytes)
                documents.append(parse_document(path, doc_id, text))
            except DocumentError as error:
                failures[doc_id] = error
            if progress is not None:
                progress("reading", done, len(paths))
        if failures:
            raise IngestError(
                f"nothing was changed: {len(failures)} of {len(paths)} "
                "source files cannot be used",
                failures,
                reason="sources_unusable",
                failed=len(failures),
                total=len(paths),
            )
        return documents

    def run(self, wait: bool = True, progress: IngestProgress | None = None) -> IngestReport:
        """Bring the index up to date with the sources dir; a no-op when nothing changed.
        With wait=False, a reload already running makes this one fail at once.

        progress, when given, is called from this thread with "reading" (files read of all),
        then, when something changed, "embedding" (texts embedded of those not cached) and
        "writing" (0 of 1 before the new version is published, 1 of 1 after). It must not
        raise: an exception from it aborts the ingest like any other failure."""
        started = time.perf_counter()
        with self._store.writer_lock(wait):
            documents = self.read_sources(progress)
            passages = {doc.doc_id: cut_passages(doc, self._chunk_chars) for doc in documents}
            try:
                previous = self._store.current()
            except IndexUnavailableError:
                previous = None  # a damaged pointer or manifest: rebuild from the sources
            if previous is not None and not self._store.is_intact(previous):
                previous = None  # its collection is gone or partial: rebuild
            infos = _stamped([self._info(d, passages[d.doc_id]) for d in documents], previous)
            if previous is not None and self._unchanged(previous, infos):
                return self._report(previous, previous, set(), started, changed=False, embedded=0)
            flat = [(passage, doc.text) for doc in documents for passage in passages[doc.doc_id]]
            # Everything in one call, so the progress of "embedding" has one total; cached by
            # hash. Sentences always (answering picks sentences by their vectors), and their
            # latent terms, so that the first question after a reload does not wait for them.
            vectors_by_hash, _, embedded = self._cache.embed_sentences(
                self._embedder,
                [
                    text
                    for passage, source in flat
                    for text in texts_to_embed(passage, source, self._passage_vectors)
                ],
                [text for passage, source in flat for text in sentence_texts(passage, source)],
                progress,
            )
            if self._passage_vectors == "embedded":
                vectors = np.stack([vectors_by_hash[sha256(embedding_text(p))] for p, _ in flat])
            else:
                vectors = np.stack([passage_vector(p, s, vectors_by_hash) for p, s in flat])
            old_ids = self._store.chunk_ids(previous) if previous else set()
            if progress is not None:
                progress("writing", 0, 1)
            texts = {doc.content_hash: doc.text for doc in documents}
            manifest = self._store.publish(
                [p for p, _ in flat],
                vectors,
                infos,
                self._chunk_chars,
                texts,
                self._passage_vectors,
            )
            if progress is not None:
                progress("writing", 1, 1)
            return self._report(
                manifest,
                previous,
                old_ids,
                started,
                changed=True,
                embedded=embedded,
                new_ids={p.chunk_id for p, _ in flat},
            )

    def _info(self, document: SourceDocument, passages: list[Passage]) -> DocumentInfo:
        return DocumentInfo(
            doc_id=document.doc_id,
            file_name=document.file_name,
            title=document.title,
            date=document.date,
            sections=tuple(section.title for section in document.sections if section.title),
            chunks=len(passages),
            content_hash=document.content_hash,
            size_bytes=len(document.text.encode("utf-8")),
        )

    def _unchanged(self, previous: Manifest, infos: list[DocumentInfo]) -> bool:
        return (
            previous.embedder == self._embedder.identity
            and previous.chunk_chars == self._chunk_chars
            and previous.passage_vectors == self._passage_vectors
            and [replace(d, added_at="", updated_at="") for d in previous.documents]
            == [replace(d, added_at="", updated_at="") for d in infos]
        )

    def _report(
        self,
        manifest: Manifest,
        previous: Manifest | None,
        old_ids: set[str],
        started: float,
        changed: bool,
        embedded: int,
        new_ids: set[str] | None = None,
    ) -> IngestReport:
        before = {doc.doc_id: doc.content_hash for doc in previous.documents} if previous else {}
        after = {doc.doc_id: doc.content_hash for doc in manifest.documents}
        new_ids = old_ids if new_ids is None else new_ids
        return IngestReport(
            version=manifest.version,
            changed=changed,
            documents=len(manifest.documents),
            chunks=manifest.chunk_count,
            documents_added=len(after.keys() - before.keys()) if changed else 0,
            documents_updated=sum(
                1 for k in after.keys() & before.keys() if after[k] != before[k]
            ),
            documents_removed=len(before.keys() - after.keys()) if changed else 0,
            chunks_added=len(new_ids - old_ids),
            chunks_removed=len(old_ids - new_ids),
            texts_embedded=embedded,
            seconds=time.perf_counter() - started,
        )
