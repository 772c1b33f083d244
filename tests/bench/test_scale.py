"""bench.scale's core at a tiny size: the result's fields, recall in [0, 1], and brute force
finding a passage from its own vector. No timed assertions."""

from __future__ import annotations

import dataclasses

import numpy as np

from bench.scale import ScaleResult, brute_top, run_size, synthesise


def test_run_size_reports_every_field() -> None:
    result = run_size(200, questions=10)
    assert isinstance(result, ScaleResult)
    fields = dataclasses.asdict(result)
    assert set(fields) == {field.name for field in dataclasses.fields(ScaleResult)}
    assert result.passages == 200
    assert result.questions == 10
    assert 0.0 <= result.recall_at_5 <= 1.0
    assert result.brute_self_top1 == 1.0
    assert result.p50_ms > 0
    assert result.p95_ms >= result.p50_ms
    assert result.peak_rss_mb > 0


def test_brute_force_top1_is_the_passage_whose_vector_is_the_query() -> None:
    pool = [f"Sentence number {i} about a topic." for i in range(50)]
    rng = np.random.default_rng(0)
    pool_vectors = rng.normal(size=(50, 16)).astype(np.float32)
    pool_vectors /= np.linalg.norm(pool_vectors, axis=1, keepdims=True)
    passages, vectors, documents = synthesise(200, pool, pool_vectors)
    assert len(passages) == 200 == len(vectors)
    assert sum(document.chunks for document in documents) == 200
    for index in (0, 17, 199):
        assert int(brute_top(vectors, vectors[index], 5)[0]) == index
