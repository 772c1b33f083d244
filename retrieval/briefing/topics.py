"""Keeping a briefing to a topic: the sentences about it, or none when the documents do not
mention it at all (then the briefing says so rather than showing the nearest sentences)."""

from __future__ import annotations

from retrieval.index.embedders import Embedder
from retrieval.index.live import LiveIndex
from retrieval.models import IndexedSentence
from retrieval.text import terms

TOPIC_MARGIN = 0.03  # how much less similar to a topic than the closest sentence is still on it
TOPIC_TERM_SHARE = 0.25  # a topic word in more sentences than this names nothing in particular
MIN_TOPIC_PASSAGES = 8  # passages retrieved for a topic, at least


def term_matches(term: str, available: frozenset[str]) -> bool:
    """The stem is there, or one that starts like it: "iraq" / "iraqi"."""
    return term in available or (
        len(term) >= 4
        and any(
            len(other) >= 4 and (other.startswith(term) or term.startswith(other))
            for other in available
        )
    )


def on_topic(live: LiveIndex, embedder: Embedder, topic: str, top_k: int) -> list[IndexedSentence]:
    """Sentences of the passages retrieved for the topic that name it, or are about as
    close to it as the closest one. The topic as `retrieval.reading` reads it."""
    vector = embedder.embed_question(topic)
    hits = live.searcher.search(topic, vector, max(top_k, MIN_TOPIC_PASSAGES))
    candidates = [s for hit in hits for s in live.sentences[hit.passage.chunk_id]]
    if not candidates:
        return []
    # Nothing of the topic (not even a stem or an alias) in what was retrieved: the
    # documents do not cover it, however similar the closest sentences look.
    words_of_topic = terms(topic)
    named = [
        s
        for s in candidates
        if any(term_matches(t, s.terms | s.context_terms) for t in words_of_topic)
    ]
    if not named:
        return []
    # Words of the topic that most sentences contain ("U.S." here) do not pick any out.
    everything = live.all_sentences()
    rare = {
        term
        for term in words_of_topic
        if sum(term in s.terms for s in everything) <= TOPIC_TERM_SHARE * len(everything)
    }
    similarity = {id(s): float(s.vector @ vector) for s in candidates}
    best = max(similarity[id(s)] for s in named)
    return [
        s
        for s in candidates
        if rare & (s.terms | s.context_terms) or similarity[id(s)] >= best - TOPIC_MARGIN
    ]
