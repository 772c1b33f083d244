from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import DocumentError
from retrieval.sources.documents import (
    cut_passages,
    decode_source,
    discover_sources,
    parse_document,
    read_source_text,
)
from tests.conftest import SEED


def parse(text: str, name: str = "doc.md") -> object:
    return parse_document(Path(name), name, text)


def test_seed_sections_title_and_date() -> None:
    text = read_source_text(SEED, 10**6)
    document = parse_document(SEED, SEED.name, text)
    assert [section.title for section in document.sections] == [
        "Introduction",
        "U.S. Strike Kills Iraqi Security Official",
        "U.S. Forces in Iraq",
        "Under Fire Since October 7",
    ]
    assert document.date == "2024-01-06"
    assert document.title.startswith("As Israel and Hamas continue battling in Gaza")
    assert len(document.title) <= 91


def test_seed_passages_keep_sentences_and_sections() -> None:
    text = read_source_text(SEED, 10**6)
    document = parse_document(SEED, SEED.name, text)
    passages = cut_passages(document, 600)
    assert [p.chunk_index for p in passages] == list(range(len(passages)))
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.end - passage.start <= 600
        assert passage.text[-1] in ".\u201d"  # ends on a sentence end
        section = next(s for s in document.sections if s.title == passage.section)
        assert section.body.start <= passage.start
        assert passage.end <= section.body.end
    headings = {s.title for s in document.sections}
    assert not any(heading in p.text for p in passages for heading in headings - {"Introduction"})
    assert len({p.chunk_id for p in passages}) == len(passages)


def test_chunk_ids_are_deterministic() -> None:
    text = read_source_text(SEED, 10**6)
    first = cut_passages(parse_document(SEED, SEED.name, text), 600)
    second = cut_passages(parse_document(SEED, SEED.name, text), 600)
    assert [p.chunk_id for p in first] == [p.chunk_id for p in second]


def test_front_matter_and_markdown_headings() -> None:
    text = (
        "---\ntitle: Budget brief\ndate: 2025-03-02\n---\n"
        "# Costs\nIt costs 5 dollars.\n\n## Risks\nSome risk remains.\n"
    )
    document = parse(text)
    assert document.title == "Budget brief"
    assert document.date == "2025-03-02"
    assert [(s.title, s.body.of(text)) for s in document.sections] == [
        ("Costs", "It costs 5 dollars."),
        ("Risks", "Some risk remains."),
    ]


def test_first_heading_line_is_the_title() -> None:
    text = "Howard rebuts asylum criticisms\n\nTory leader Michael Howard went on the offensive.\n"
    document = parse(text, "news.txt")
    assert document.title == "Howard rebuts asylum criticisms"
    assert [s.title for s in document.sections] == [""]
    assert document.date is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty"),
        (b"  \n\t\n", "is empty"),
        (b"\x7fELF\x00\x01binary", "binary"),
        ("caf\u00e9".encode("latin-1") + b" au lait", "not UTF-8"),
    ],
)
def test_unusable_bytes_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        decode_source(data)


def test_oversized_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000, encoding="utf-8")
    with pytest.raises(DocumentError, match="over the size limit"):
        read_source_text(path, 1000)


def test_a_megabyte_on_one_line_becomes_bounded_passages() -> None:
    text = ("The quick brown fox jumps over the lazy dog " * 24000).strip()
    passages = cut_passages(parse(text, "line.txt"), 600)
    assert len(text) > 1_000_000
    assert all(p.end - p.start <= 600 for p in passages)
    assert all(text[p.start : p.end] == p.text for p in passages)


def test_hard_wrapped_text_keeps_its_short_lines_in_sentences() -> None:
    text = (
        "Budget report\n\nOfficials said on Monday that the costs of the programme\n"
        "will rise sharply next year because of inflation and delays\n"
        "Officials expect the total to reach 40 million euros\n"
        "by the end of the decade, according to the ministry.\n\nRisks\n\n"
        "The ministry warned that further delays could push the\ntotal higher still.\n"
    )
    document = parse(text, "wrapped.txt")
    assert document.title == "Budget report"
    assert [s.title for s in document.sections] == ["Introduction", "Risks"]
    assert any("40 million euros\nby the end" in p.text for p in cut_passages(document, 600))


def test_byte_order_mark_and_horizontal_rules_are_not_front_matter() -> None:
    marked = parse("\ufeff---\ntitle: Marked\n---\n# Head\nBody text here.\n")
    assert marked.title == "Marked"
    assert [s.title for s in marked.sections] == ["Head"]
    ruled_text = "---\n\nAn important intro paragraph.\n\n---\nMore text follows.\n"
    ruled = parse(ruled_text)
    assert "An important intro paragraph." in ruled.sections[0].body.of(ruled_text)


def test_a_title_from_text_without_spaces_stays_short() -> None:
    document = parse("\u6f22\u5b57" * 5000 + "\u3002", "cjk.txt")
    assert len(document.title) <= 91


def test_a_link_to_a_file_outside_the_sources_dir_is_not_a_source(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    (sources / "inside").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("Not for publishing.\n", encoding="utf-8")
    (sources / "inside" / "report.txt").write_text("A report.\n", encoding="utf-8")
    (sources / "escape.txt").symlink_to(outside)
    (sources / "alias.txt").symlink_to(sources / "inside" / "report.txt")
    found = [path.relative_to(sources).as_posix() for path in discover_sources(sources)]
    assert found == ["alias.txt", "inside/report.txt"]


def test_front_matter_with_a_yaml_list_keeps_its_title_and_date() -> None:
    text = (
        '---\ntitle: "Budget: the brief"\ntags:\n  - economy\n  - budget\n'
        "date: 2025-03-02\n---\nIt costs 5 dollars.\n"
    )
    document = parse(text)
    assert document.title == "Budget: the brief"
    assert document.date == "2025-03-02"
    assert [(s.title, s.body.of(text)) for s in document.sections] == [("", "It costs 5 dollars.")]


def test_front_matter_that_yaml_refuses_is_still_read_line_by_line() -> None:
    text = "---\ntitle: Budget: the brief\ndate: 2 March 2025\n---\nIt costs 5 dollars.\n"
    document = parse(text)
    assert document.title == "Budget: the brief"
    assert document.date == "2025-03-02"


def test_setext_headings_are_the_title_and_sections() -> None:
    text = (
        "Budget brief\n============\n\nIt costs 5 dollars in all.\n\n"
        "Risks\n-----\n\nSome risk remains for now.\n"
    )
    document = parse(text)
    assert document.title == "Budget brief"
    assert [(s.title, s.body.of(text)) for s in document.sections] == [
        ("Introduction", "It costs 5 dollars in all."),
        ("Risks", "Some risk remains for now."),
    ]
    assert all("---" not in passage.text for passage in cut_passages(document, 600))


def test_a_paragraph_over_a_rule_stays_body_text() -> None:
    """In plain text `---` under a paragraph is a rule; a heading would drop the paragraph."""
    text = (
        "Budget brief\n\nThe ministry said the programme costs 5 dollars,\n"
        "and more next year.\n---\nRisks remain.\n"
    )
    document = parse(text, "brief.txt")
    passages = " ".join(passage.text for passage in cut_passages(document, 600))
    assert "The ministry said the programme costs 5 dollars" in passages


def test_a_hash_line_in_fenced_code_is_no_section() -> None:
    text = (
        "# Setup\n\nRun the installer first.\n\n```sh\n# install the tools\nmake install\n```\n"
        "\n~~~\n# another comment\n~~~\n\n## Use\n\nThen run it.\n"
    )
    document = parse(text)
    assert document.title == "Setup"
    assert [s.title for s in document.sections] == ["Introduction", "Use"]
    assert "# install the tools" in document.sections[0].body.of(text)


@pytest.mark.parametrize(
    "stated",
    [
        "6th January 2024",
        "January 6th, 2024",
        "6 January 2024",
        "Jan. 6, 2024",
        "6th of January 2024",
    ],
)
def test_dates_with_ordinals_are_found(stated: str) -> None:
    document = parse(f"Iraq talks\n\nPublished {stated}. The talks began in Baghdad.\n", "n.txt")
    assert document.date == "2024-01-06"


def test_a_dateline_with_an_ordinal_is_not_part_of_the_fallback_title() -> None:
    document = parse("January 6th, 2024 \u2014 The talks began in Baghdad on Friday.\n", "n.txt")
    assert document.title == "The talks began in Baghdad on Friday"
    assert document.date == "2024-01-06"
