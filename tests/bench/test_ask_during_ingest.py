"""bench.ask_during_ingest, with the fast embedder and an invented document: questions are
timed quiet and while the ingest runs."""

from __future__ import annotations

from pathlib import Path

from bench.ask_during_ingest import measure


def test_questions_are_timed_quiet_and_during_an_ingest(tmp_path: Path) -> None:
    document = tmp_path / "harbour.txt"
    document.write_text(
        "\n".join(f"The harbour handled {n} ships in week {n}." for n in range(1, 40)),
        encoding="utf-8",
    )
    measured = measure("wordllama", quiet_questions=5, new_document=document)
    assert len(measured.quiet_ms) == 5
    assert measured.during_ms  # at least one, however quick the ingest
    assert all(ms > 0 for ms in measured.quiet_ms + measured.during_ms)
    assert measured.ingest_s > 0
    assert measured.ingest_alone_s > 0
    table = measured.markdown()
    assert "| quiet | 5 |" in table
    assert f"| during the ingest | {len(measured.during_ms)} |" in table
