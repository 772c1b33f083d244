from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.service import KnowledgeBase
from tests.conftest import SEED

SECTIONS = {
    "Introduction",
    "U.S. Strike Kills Iraqi Security Official",
    "U.S. Forces in Iraq",
    "Under Fire Since October 7",
}


def test_the_seed_briefing_covers_every_section_with_valid_citations(kb: KnowledgeBase) -> None:
    briefing = kb.brief()
    source = SEED.read_text(encoding="utf-8")
    assert briefing.bottom_line is not None
    covered = {p.citation.section for p in [briefing.bottom_line, *briefing.key_points]}
    assert covered == SECTIONS
    citations = briefing.citations
    assert [c.n for c in citations] == list(range(1, len(citations) + 1))
    for citation in citations:
        assert source[citation.start : citation.end] == citation.quote
    texts = [c.quote for c in citations]
    assert len(texts) == len(set(texts))  # no point is repeated under another heading
    assert any("Justin Logan" in p.text for p in briefing.positions)
    assert any("reportedly" in p.text or "denied" in p.text for p in briefing.unclear)


def test_a_topic_briefing_stays_on_its_topic(kb: KnowledgeBase) -> None:
    briefing = kb.brief("the U.S. strike in Baghdad")
    points = [briefing.bottom_line, *briefing.key_points, *briefing.positions, *briefing.unclear]
    assert briefing.bottom_line is not None
    assert "Baghdad" in briefing.bottom_line.text
    assert all(
        p is not None
        and (
            p.citation.section == "U.S. Strike Kills Iraqi Security Official"
            or "strike" in p.text.lower()
        )
        for p in points
    )


def test_a_misspelt_topic_is_read_as_the_documents_spell_it(kb: KnowledgeBase) -> None:
    misspelt, spelt = kb.brief("the U.S. strke in Bagdhad"), kb.brief("the U.S. strike in Baghdad")
    assert misspelt.topic == "the U.S. strke in Bagdhad"  # shown as asked
    assert misspelt.bottom_line is not None
    assert misspelt.citations == spelt.citations


def test_a_topic_the_documents_do_not_cover_gives_an_empty_briefing(kb: KnowledgeBase) -> None:
    briefing = kb.brief("sourdough baking")
    assert briefing.bottom_line is None
    assert briefing.citations == []


def test_a_long_url_or_a_documents_own_footnote_mark_never_makes_a_point(
    make_settings: Callable[..., Settings], sources: Path
) -> None:
    url = "https://example.org/" + "a1b2c3" * 750  # about 4,500 characters
    (sources / "links.md").write_text(f"# Links\n\n{url}\n", encoding="utf-8")
    (sources / "notes.md").write_text(
        "# Notes\n\nThe U.S. strike was reported by Reuters [7] on Friday.\n", encoding="utf-8"
    )
    kb = open_knowledge_base(make_settings())
    try:
        kb.ingest()
        briefing = kb.brief()
        answer = kb.ask("Who reported the U.S. strike on Friday?")
    finally:
        kb.close()
    points = [briefing.bottom_line, *briefing.key_points, *briefing.positions, *briefing.unclear]
    assert all(p is not None and "a1b2c3a1b2c3" not in p.text for p in points)
    assert all("[7]" not in p.text for p in points if p is not None)
    assert "[7]" not in answer.text  # the document's mark is shown as (7)
