"""Tests of the fake embedder itself: the answer-step tests rely on these properties."""

from __future__ import annotations

import numpy as np

from tests.fakes.embedder import DIMENSIONS, FakeEmbedder

TEXTS = [
    "About 2,500 troops are stationed in Iraq.",
    "In Iraq, 2,500 troops are stationed.",
    "The bakery sells sourdough bread on Sundays.",
]


def test_vectors_are_unit_length_float32_of_the_fixed_width() -> None:
    vectors = FakeEmbedder().embed_passages([*TEXTS, "What is it?"])  # the last: stopwords only
    assert vectors.dtype == np.float32
    assert vectors.shape == (4, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_embedding_is_deterministic_and_the_same_for_questions_and_passages() -> None:
    first = FakeEmbedder().embed_passages(TEXTS)
    again = FakeEmbedder().embed_passages(list(reversed(TEXTS)))[::-1]
    assert np.array_equal(first, again)
    assert np.array_equal(FakeEmbedder().embed_question(TEXTS[0]), first[0])


def test_texts_sharing_words_are_closer_than_unrelated_ones() -> None:
    troops, same_facts, bakery = FakeEmbedder().embed_passages(TEXTS)
    assert float(troops @ same_facts) > 0.999  # one set of stemmed terms, in another order
    assert float(troops @ bakery) < 0.2
    # Stemming: "stationed" and "station" are one term.
    near = FakeEmbedder().embed_passages(["troops station Iraq", "sourdough station"])
    assert float(near[0] @ troops) > float(near[1] @ troops)


def test_the_fake_is_named_and_identified_as_fake() -> None:
    embedder = FakeEmbedder()
    assert FakeEmbedder.name() == "fake"
    assert embedder.identity == "fake"
