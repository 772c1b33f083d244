"""HybridSearcher.search: a passage whose one sentence answers among several that do not is
found by the best-sentence ranking; and top_positive, the cut of its rankings: the same
indices, in the same order, as a stable argsort of every score cut at the first score <= 0."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from config import Settings
from retrieval.index.live import LiveIndexes
from retrieval.index.search import top_positive
from retrieval.index.store import IndexStore, chroma_client, release_freed_memory
from retrieval.index.vector_cache import VectorCache
from tests.fakes.embedder import RecordingEmbedder

QUESTION = "Where does the garrison keep its troops near the river?"
DILUTED = (  # the answer, among four sentences about something else
    "Animals\n\nDogs bark at night in the town. Cats sleep in the sun all day. Birds sing "
    "each morning in spring. Fish swim in the ponds of the park. The garrison keeps its "
    "troops near the river at Basra.\n"
)
PARTIAL = (  # two sentences with some of the question's words each, the answer in neither
    "Garrison\n\nThe garrison keeps its horses near the river. Troops of the garrison "
    "keep guard.\n"
)


def first_found(make_settings: Callable[..., Settings], tmp_path: Path, weight: float) -> str:
    sources = tmp_path / f"sources-{weight}"
    sources.mkdir()
    (sources / "diluted.txt").write_text(DILUTED, encoding="utf-8")
    (sources / "partial.txt").write_text(PARTIAL, encoding="utf-8")
    # Vectors against the best sentence alone: BM25 off, so it cannot decide either way.
    settings = make_settings(
        sources_dir=sources,
        data_dir=tmp_path / f"data-{weight}",
        lexical_weight=0.0,
        sentence_weight=weight,
    )
    embedder = RecordingEmbedder()
    store = IndexStore(
        chroma_client(settings), settings.data_dir / "index", embedder, settings.index_name
    )
    indexes = LiveIndexes(settings, embedder, store, VectorCache(settings.data_dir / "v.db"))
    try:
        indexes.ensure()
        searcher = indexes.current().searcher
        hits = searcher.search(QUESTION, embedder.embed_question(QUESTION), 2)
        return hits[0].passage.file_name
    finally:
        indexes.close()


def test_a_passage_with_one_answering_sentence_is_found_by_that_sentence(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # By passage vectors alone the short, partly matching passage comes first ...
    assert first_found(make_settings, tmp_path, 0.0) == "partial.txt"
    # ... by its best sentence the passage that holds the answer does.
    assert first_found(make_settings, tmp_path, 2.0) == "diluted.txt"


def _reference(scores: np.ndarray, count: int) -> list[int]:
    out = []
    for index in np.argsort(-scores, kind="stable")[:count]:
        if scores[index] <= 0:
            break
        out.append(int(index))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_top_positive_equals_a_stable_full_sort_cut_at_zero(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 300))
    # Few positive scores, many zeros, some negatives and many ties: the hard cases.
    scores = rng.choice([0.0, 0.0, 0.0, -1.0, 0.5, 1.0, 2.0], size=size) * rng.choice(
        [1.0, 1.0, 0.25], size=size
    )
    for count in (1, 5, 20, size + 3):
        assert top_positive(scores, count).tolist() == _reference(scores, count)


def test_top_positive_of_no_positive_score_is_empty() -> None:
    assert top_positive(np.zeros(10, dtype=np.float32), 5).tolist() == []
    assert top_positive(np.array([-1.0, 0.0]), 5).tolist() == []


def test_ties_keep_index_order() -> None:
    assert top_positive(np.array([1.0, 3.0, 1.0, 3.0, 0.0]), 3).tolist() == [1, 3, 0]


def test_releasing_freed_memory_keeps_what_is_live() -> None:
    live = [bytes([n % 256]) * 4096 for n in range(1000)]
    garbage = [bytearray(4096) for _ in range(1000)]
    del garbage
    release_freed_memory()
    assert all(block == bytes([n % 256]) * 4096 for n, block in enumerate(live))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_memory_is_released_through_glibc_on_linux() -> None:
    from retrieval.index.store import _malloc_trim

    assert _malloc_trim() is not None
