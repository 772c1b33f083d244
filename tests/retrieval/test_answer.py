"""The extractive answer step on small made-up articles. Each rule here was added for a miss
on the news eval (docs/evaluation.md) and is pinned by a test that fails without it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config import Settings
from retrieval.service import KnowledgeBase

ASYLUM = """Howard sets out asylum plan

Tory leader Michael Howard has set out plans for an annual limit on asylum seekers.

Mr Howard said nearly 160,000 people were settling in the UK every year - the size of a city
like Peterborough. He said the current system was chaotic.

Ministers in London said the plan would breach international law.
"""

BOOK = """Lawyer's book revives war advice row

A leading lawyer says the legal advice on the war was drafted in Downing Street.

In his new book, Lawless World, Philippe Sands, a law professor, suggests the parliamentary
answer was written at Number 10. The government denies the claim.

Ministers said 3 officials had seen the advice.
"""

BANK = """Israel looks abroad for bank chief

Israel has asked a former International Monetary Fund director to run its central bank.

Stanley Fischer, vice chairman of banking giant Citigroup, has agreed to take the job.
"""


@pytest.fixture
def news(tmp_path: Path, make_settings: Callable[..., Settings]) -> Iterator[KnowledgeBase]:
    sources = tmp_path / "news"
    sources.mkdir()
    (sources / "asylum.txt").write_text(ASYLUM, encoding="utf-8")
    (sources / "book.txt").write_text(BOOK, encoding="utf-8")
    (sources / "bank.txt").write_text(BANK, encoding="utf-8")
    base = KnowledgeBase.open(make_settings(sources_dir=sources))
    base.ingest()
    yield base
    base.close()


def test_a_surname_stands_for_the_full_name_the_article_gives(news: KnowledgeBase) -> None:
    answer = news.ask("According to Michael Howard, how many people settle in the UK every year?")
    assert answer.grounded
    assert "160,000" in answer.citations[0].quote


def test_a_name_with_number_in_it_does_not_make_a_question_ask_for_a_number(
    news: KnowledgeBase,
) -> None:
    answer = news.ask(
        "What is the title of Philippe Sands' book claiming the advice was written at Number 10?"
    )
    assert answer.grounded
    assert "Lawless World" in answer.citations[0].quote


def test_initials_match_the_name_they_abbreviate(news: KnowledgeBase) -> None:
    answer = news.ask("Who is the Citigroup vice chairman who was an IMF director?")
    assert answer.grounded
    assert any("Stanley Fischer" in citation.quote for citation in answer.citations)
