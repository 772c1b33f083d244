from __future__ import annotations

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


def test_a_topic_the_documents_do_not_cover_gives_an_empty_briefing(kb: KnowledgeBase) -> None:
    briefing = kb.brief("sourdough baking")
    assert briefing.bottom_line is None
    assert briefing.citations == []
