"""A passage's vector is made from its sentences' vectors and its title/section's: an ingest
embeds each sentence and each distinct title/section once, never a passage's text, and what
the vector cache holds from the older recipe (passage texts) is never served as a passage."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from config import Settings
from retrieval.index.ingest import (
    CONTEXT_WEIGHT,
    context_text,
    embedding_text,
    passage_vector,
    sentence_texts,
)
from retrieval.index.live import LiveIndexes
from retrieval.index.store import IndexStore, chroma_client
from retrieval.index.vector_cache import VectorCache
from retrieval.models import Manifest
from retrieval.sources.documents import cut_passages, discover_sources, parse_document, sha256
from tests.fakes.embedder import RecordingEmbedder


@pytest.fixture
def embedder() -> RecordingEmbedder:
    return RecordingEmbedder()


def open_indexes(settings: Settings, embedder: RecordingEmbedder) -> LiveIndexes:
    store = IndexStore(
        chroma_client(settings), settings.data_dir / "index", embedder, settings.index_name
    )
    return LiveIndexes(settings, embedder, store, VectorCache(settings.data_dir / "vectors.db"))


@pytest.fixture
def indexes(settings: Settings, embedder: RecordingEmbedder) -> Iterator[LiveIndexes]:
    live = open_indexes(settings, embedder)
    yield live
    live.close()


def passages_of(sources: Path) -> list[tuple[Any, str]]:
    found = []
    for path in discover_sources(sources):
        document = parse_document(path, path.name, path.read_text("utf-8"))
        found += [(p, document.text) for p in cut_passages(document, 600)]
    return found


def stored_vectors(indexes: LiveIndexes) -> dict[str, np.ndarray]:
    manifest = indexes.store.current()
    assert manifest is not None
    got = indexes.store.collection(manifest).get(include=["embeddings"])
    embeddings = got["embeddings"]
    assert embeddings is not None
    return {
        chunk: np.asarray(vector, dtype=np.float32)
        for chunk, vector in zip(got["ids"], list(embeddings), strict=True)
    }


def test_the_passage_vector_is_the_length_weighted_mean_with_the_title_weighted_up() -> None:
    document = parse_document(
        Path("t.txt"), "t.txt", "Budget\n\nThe ministry pays. The council spends far more money.\n"
    )
    [passage] = cut_passages(document, 600)
    parts = [*sentence_texts(passage, document.text), context_text(passage)]
    assert parts == ["The ministry pays.", "The council spends far more money.", "Budget"]
    vectors = {sha256(text): np.eye(3, dtype=np.float32)[i] for i, text in enumerate(parts)}
    expected = np.array([len(text) for text in parts], np.float32)
    expected[-1] *= CONTEXT_WEIGHT  # the title's
    expected /= np.linalg.norm(expected)
    assert np.allclose(passage_vector(passage, document.text, vectors), expected)


def test_an_ingest_embeds_sentences_and_titles_never_passage_texts(
    indexes: LiveIndexes, embedder: RecordingEmbedder, sources: Path
) -> None:
    indexes.ingest()
    passages = passages_of(sources)
    sentences = {t for p, text in passages for t in sentence_texts(p, text)}
    contexts = {context_text(p) for p, _ in passages} - {""}
    assert len(embedder.texts) == len(set(embedder.texts))  # each text once
    assert set(embedder.texts) == sentences | contexts
    assert not {embedding_text(p) for p, _ in passages} & set(embedder.texts)


def test_the_stored_passage_vectors_are_made_from_the_sentences(
    indexes: LiveIndexes, embedder: RecordingEmbedder, sources: Path, settings: Settings
) -> None:
    indexes.ingest()
    cached, _ = VectorCache(settings.data_dir / "vectors.db").embed(embedder, embedder.texts)
    stored = stored_vectors(indexes)
    for passage, text in passages_of(sources):
        assert np.allclose(stored[passage.chunk_id], passage_vector(passage, text, cached))


def test_switching_from_the_older_recipe_re_indexes_from_the_cache(
    make_settings: Callable[..., Settings], embedder: RecordingEmbedder, sources: Path
) -> None:
    """An index built by the older recipe (BRIEFBOT_PASSAGE_VECTORS=embedded, or before the
    setting) is rebuilt at the next reload under the new one, with nothing in the sources
    changed; the vector cache is keyed by embedder and text, so the passage texts the older
    recipe cached are never served as passages, and only the titles are embedded anew."""
    older = open_indexes(make_settings(passage_vectors="embedded"), embedder)
    try:
        older.ingest()
        first = stored_vectors(older)
        assert older.current().manifest.passage_vectors == "embedded"
    finally:
        older.close()
    passages = passages_of(sources)
    for passage, _ in passages:  # the older recipe stored each passage's own embedding
        own = embedder.embed_passages([embedding_text(passage)])[0]
        assert np.allclose(first[passage.chunk_id], own)
    settings = make_settings()
    embedder.texts.clear()
    newer = open_indexes(settings, embedder)
    try:
        report = newer.ingest()
        assert report.changed
        assert newer.current().manifest.passage_vectors == "sentences"
        assert set(embedder.texts) == {context_text(p) for p, _ in passages} - {""}
        cached, _ = VectorCache(settings.data_dir / "vectors.db").embed(
            embedder,
            [t for p, text in passages for t in [*sentence_texts(p, text), context_text(p)]],
        )
        second = stored_vectors(newer)
        for passage, text in passages:
            assert np.allclose(second[passage.chunk_id], passage_vector(passage, text, cached))
        assert not newer.ingest().changed  # and from then on, unchanged is unchanged
    finally:
        newer.close()


def test_a_manifest_from_before_the_setting_reads_as_the_older_recipe(
    indexes: LiveIndexes,
) -> None:
    indexes.ingest()
    data = json.loads(indexes.current().manifest.to_json())
    del data["passage_vectors"]
    assert Manifest.from_json(json.dumps(data)).passage_vectors == "embedded"
