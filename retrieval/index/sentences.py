"""The sentences of an index version, ready for answering and briefing, and the corpus
statistics they need: pure functions of the passages and their vectors (no store, no model)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from retrieval.models import CorpusStatistics, IndexedSentence, LatentTerms, Matrix, Passage
from retrieval.sources.documents import sha256
from retrieval.text import acronym_terms, script, terms, words

COMMON_WORDS = 50  # the most frequent words of a corpus: its function words, in any language
BACKGROUND_SENTENCES = 256  # sentence vectors sampled as the corpus's background


def sentence_text(passage: Passage, index: int) -> str:
    span = passage.sentences[index]
    return passage.text[span.start - passage.start : span.end - passage.start]


def index_sentences(
    passages: Sequence[Passage],
    vectors_by_hash: Mapping[str, Matrix],
    latent_by_hash: Mapping[str, LatentTerms],
) -> dict[str, tuple[IndexedSentence, ...]]:
    """The passages' sentences by chunk id, with their terms, context, vectors and latent
    terms (looked up by the hash of each sentence's text)."""
    by_chunk: dict[str, tuple[IndexedSentence, ...]] = {}
    # Every passage of a section has the same context: one set per section, not per passage.
    contexts: dict[tuple[str, str], frozenset[str]] = {}
    for passage in passages:
        heading = (passage.title, passage.section)
        context = contexts.get(heading)
        if context is None:
            context = contexts[heading] = frozenset(terms(f"{passage.title} {passage.section}"))
        texts = [sentence_text(passage, i) for i in range(len(passage.sentences))]
        by_chunk[passage.chunk_id] = tuple(
            IndexedSentence(
                passage,
                position,
                span,
                text,
                frozenset(terms(text) + acronym_terms(text)),
                context,
                vectors_by_hash[digest := sha256(text)],
                latent_by_hash[digest],
            )
            for position, (span, text) in enumerate(zip(passage.sentences, texts, strict=True))
        )
    return by_chunk


def corpus_statistics(sentences: Sequence[IndexedSentence]) -> CorpusStatistics:
    """BM25-style idf of each stemmed term over the sentences, the words, and the common ones."""
    count = len(sentences)
    document_frequency: Counter[str] = Counter()
    word_frequency: Counter[str] = Counter()
    for sentence in sentences:
        document_frequency.update(sentence.terms)
        word_frequency.update(set(words(sentence.text)))
    idf = {
        term: math.log(1 + (count - df + 0.5) / (df + 0.5))
        for term, df in document_frequency.items()
    }
    common = frozenset(
        word for word, _ in word_frequency.most_common(COMMON_WORDS) if not word[0].isdigit()
    )
    step = max(1, count // BACKGROUND_SENTENCES)
    background = (
        np.stack([s.vector for s in sentences[::step]])
        if sentences
        else np.zeros((0, 0), dtype=np.float32)
    )
    return CorpusStatistics(
        idf,
        math.log(1 + (count + 0.5) / 0.5),
        common,
        script(" ".join(common)),
        dict(word_frequency),
        background,
        background_spread(background),
    )


def background_spread(background: Matrix) -> float:
    """The median over the background sentences of the standard deviation of their cosines
    with the other background sentences (1.0 when there are too few to tell)."""
    if len(background) < 3:
        return 1.0
    cosines = (background @ background.T).astype(np.float64)
    np.fill_diagonal(cosines, np.nan)  # a sentence's cosine with itself is not the corpus's
    return float(np.median(np.nanstd(cosines, axis=1))) or 1.0
