"""Citation numbering and the verbatim check, the one place a quote gets its [n]."""

from __future__ import annotations

from pathlib import Path

from retrieval.answer.citations import Citations, consecutive_runs, display_text
from tests.fakes.embedder import FakeCorpus

ARTICLE = """Harbour report

The harbour reopened on Monday. About 900 ships called last year.

## The new quay

The new quay cost 14 million. It opens in May.
"""


def test_citations_are_numbered_in_order_of_use_and_quote_the_file(tmp_path: Path) -> None:
    (tmp_path / "harbour.txt").write_text(ARTICLE, encoding="utf-8")
    corpus = FakeCorpus.of({"harbour.txt": ARTICLE})
    first, second = (corpus.by_chunk[p.chunk_id] for p in corpus.passages)
    citations = Citations(tmp_path)
    quay = citations.cite(list(second), score=0.5)
    opened = citations.cite([first[0]])
    assert quay is not None
    assert opened is not None
    assert (quay.n, opened.n) == (1, 2)
    assert quay.quote == "The new quay cost 14 million. It opens in May."
    assert ARTICLE[quay.start : quay.end] == quay.quote
    assert quay.score == 0.5
    assert [c.n for c in citations.all] == [1, 2]


def test_a_quote_the_file_no_longer_holds_is_dropped_without_using_a_number(
    tmp_path: Path,
) -> None:
    corpus = FakeCorpus.of({"harbour.txt": ARTICLE})
    (tmp_path / "harbour.txt").write_text(ARTICLE.replace("900", "950"), encoding="utf-8")
    first, second = (corpus.by_chunk[p.chunk_id] for p in corpus.passages)
    citations = Citations(tmp_path)
    assert citations.cite(list(first)) is None  # "About 900 ships" is gone from the file
    kept = citations.cite(list(second))
    assert kept is not None
    assert kept.n == 1
    assert Citations(tmp_path / "missing").cite(list(second)) is None


def test_sentences_apart_in_a_passage_get_a_quote_each(tmp_path: Path) -> None:
    """Evidence may hold a passage's first and third sentence: one quote of both would quote
    the sentence between them too, as if the answer had said it."""
    three = "Harbour report\n\nThe harbour reopened. Ships came back. About 900 called.\n"
    (tmp_path / "harbour.txt").write_text(three, encoding="utf-8")
    corpus = FakeCorpus.of({"harbour.txt": three})
    reopened, came_back, called = corpus.by_chunk[corpus.passages[0].chunk_id]
    assert consecutive_runs([reopened, came_back]) == [(reopened, came_back)]
    runs = consecutive_runs([reopened, called])
    assert runs == [(reopened,), (called,)]
    citations = Citations(tmp_path)
    quotes = [citation.quote for run in runs if (citation := citations.cite(run)) is not None]
    assert quotes == ["The harbour reopened.", "About 900 called."]
    assert consecutive_runs([called, reopened]) == [(called,), (reopened,)]  # order kept


def test_a_documents_own_bracketed_numbers_do_not_look_like_our_citations() -> None:
    assert (
        display_text("Growth was 3% [7] and [1, 2] agree.")
        == "Growth was 3% (7) and (1, 2) agree."
    )
    assert display_text("A [note] stays.") == "A [note] stays."
