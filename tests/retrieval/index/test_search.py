"""top_positive, the cut of the fused and BM25 rankings in HybridSearcher.search: the same
indices, in the same order, as a stable argsort of every score cut at the first score <= 0."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from retrieval.index.search import top_positive
from retrieval.index.store import release_freed_memory


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
