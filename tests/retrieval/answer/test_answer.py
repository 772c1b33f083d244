"""The extractive answer step on small made-up articles. Each rule here was added for a miss
on the news eval (docs/evaluation.md) and is pinned by a test that fails without it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.service import KnowledgeBase

# Invented articles: the news corpus is not ours to copy, so these only mimic its misses.
PERMITS = """Okafor sets out parking plan

Council leader Maria Okafor has proposed an annual cap on new parking permits. The plan
will be debated in the spring.

Ms Okafor said nearly 12,000 drivers were applying for permits every year - the size of a
small town. She called the current system chaotic.

Traders in Eastbridge said the cap would hurt the high street.
"""

BOOK = """Historian's book revives harbour row

A historian says the harbour plan was drafted in the mayor's office.

In her new book, Quiet Harbours, historian Lena Varga argues the plan was drawn up at
Number 7. The mayor denies the claim.

Councillors said 3 officials had seen the plan.
"""

GRID = """Freeland looks abroad for grid chief

Freeland has asked a former International Energy Agency director to run its grid operator.

Tomas Berg, vice chairman of the utility group Nordlicht, has agreed to take the job.
"""


@pytest.fixture
def news(tmp_path: Path, make_settings: Callable[..., Settings]) -> Iterator[KnowledgeBase]:
    sources = tmp_path / "news"
    sources.mkdir()
    (sources / "permits.txt").write_text(PERMITS, encoding="utf-8")
    (sources / "book.txt").write_text(BOOK, encoding="utf-8")
    (sources / "grid.txt").write_text(GRID, encoding="utf-8")
    base = open_knowledge_base(make_settings(sources_dir=sources))
    base.ingest()
    yield base
    base.close()


def test_a_surname_stands_for_the_full_name_the_article_gives(news: KnowledgeBase) -> None:
    answer = news.ask("According to Maria Okafor, how many drivers apply for permits every year?")
    assert answer.grounded
    assert "12,000" in answer.citations[0].quote


def test_a_name_with_number_in_it_does_not_make_a_question_ask_for_a_number(
    news: KnowledgeBase,
) -> None:
    answer = news.ask(
        "What is the title of Lena Varga's book claiming the plan was drawn up at Number 7?"
    )
    assert answer.grounded
    assert "Quiet Harbours" in answer.citations[0].quote


def test_initials_match_the_name_they_abbreviate(news: KnowledgeBase) -> None:
    answer = news.ask("Who is the Nordlicht vice chairman who was an IEA director?")
    assert answer.grounded
    assert any("Tomas Berg" in citation.quote for citation in answer.citations)
