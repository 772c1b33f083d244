"""Damaged state heals: a pointer, manifest, Chroma store or cache that cannot be read is set
aside (renamed, never deleted) and rebuilt from the sources; a damaged answer or subscription
store is set aside and started fresh. The questions keep being answered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.models import Answer
from retrieval.service import KnowledgeBase

QUESTION = "Who is Justin Logan?"


def set_aside(directory: Path, name: str) -> list[Path]:
    return sorted(directory.glob(f"{name}.corrupt-*"))


def answered_after_reopening(settings: Settings) -> Answer:
    reopened = open_knowledge_base(settings)
    try:
        reopened.ensure_index()
        return reopened.ask(QUESTION)
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("damage", "name"),
    [
        (lambda data: (data / "index" / "current.json").write_text("garbage{"), "current.json"),
        (lambda data: (data / "index" / "v1.json").write_text("{"), "v1.json"),
        (
            lambda data: (data / "vectors.sqlite").write_bytes(b"not a database" * 100),
            "vectors.sqlite",
        ),
        (
            lambda data: (data / "chroma" / "chroma.sqlite3").write_bytes(b"\x00garbage" * 64),
            "chroma",
        ),
    ],
    ids=["pointer", "manifest", "vector cache", "chroma store"],
)
def test_damaged_index_state_is_set_aside_and_rebuilt(
    kb: KnowledgeBase, settings: Settings, damage: Callable[[Path], object], name: str
) -> None:
    kb.close()
    damage(settings.data_dir)
    answer = answered_after_reopening(settings)
    assert answer.grounded
    assert "Cato Institute" in answer.citations[0].quote
    where = settings.data_dir / "index" if name.endswith(".json") else settings.data_dir
    assert len(set_aside(where, name)) == 1  # kept for a look, not deleted
