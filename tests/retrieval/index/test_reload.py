"""Reloads never leave questions without a complete index: concurrent questions, a reload
killed with SIGKILL, two reloads at once, rollback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.errors import IndexUnavailableError, ReloadInProgressError
from retrieval.index.store import open_chroma
from retrieval.service import KnowledgeBase
from tests.fakes.chroma_server import both_backends

QUESTION = "How many U.S. troops are stationed in Iraq?"


def write_filler(sources: Path, count: int) -> None:
    """Documents that take the embedder a while: each paragraph a different sentence."""
    for doc in range(count):
        paragraphs = [
            f"Report {doc} notes that committee {doc}-{i} reviewed budget line {i * 7 + doc} "
            f"and asked ministry {i} for a revised estimate by week {i + doc}."
            for i in range(12)
        ]
        (sources / f"filler-{doc:03}.txt").write_text(
            f"Filler report {doc}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )


@both_backends
def test_questions_asked_during_a_reload_all_get_a_complete_index(
    kb: KnowledgeBase, sources: Path
) -> None:
    before = kb.manifest().version
    write_filler(sources, 8)
    answers, errors = [], []
    stop = threading.Event()

    def ask_repeatedly() -> None:
        while not stop.is_set():
            try:
                answers.append(kb.ask(QUESTION))
            except Exception as error:  # noqa: BLE001 (collected and asserted below)
                errors.append(error)

    # Daemons, and stopped in `finally`: a failing reload must not leave them asking forever.
    askers = [threading.Thread(target=ask_repeatedly, daemon=True) for _ in range(2)]
    for thread in askers:
        thread.start()
    try:
        report = kb.ingest()
        answered_during = len(answers)
        deadline = time.monotonic() + 60
        while len(answers) < answered_during + 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # let questions run against the new version too
    finally:
        stop.set()
        for thread in askers:
            thread.join(60)
    assert report.version == before + 1
    assert errors == []
    assert answered_during > 0
    assert len(answers) >= answered_during + 3
    assert all(answer.grounded for answer in answers)
    assert all("2,500" in answer.citations[0].quote for answer in answers)


def test_a_second_reload_is_refused_while_one_runs(kb: KnowledgeBase, settings: Settings) -> None:
    other = open_knowledge_base(settings)
    with kb.indexes.store.writer_lock(), pytest.raises(ReloadInProgressError):
        other.ingest(wait=False)


@both_backends
def test_rollback_serves_the_previous_version_and_can_be_undone(
    kb: KnowledgeBase, sources: Path
) -> None:
    with pytest.raises(IndexUnavailableError, match="no previous"):
        kb.rollback()
    first = kb.manifest().version
    (sources / "bridge.txt").write_text(
        "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n", encoding="utf-8"
    )
    second = kb.ingest().version
    assert kb.ask("How much will the Riverside bridge cost?").grounded
    assert kb.rollback().version == first
    assert not kb.ask("How much will the Riverside bridge cost?").grounded
    assert kb.rollback().version == second  # one step back, and forward again
    assert kb.ask("How much will the Riverside bridge cost?").grounded


def test_a_reload_killed_mid_way_leaves_the_previous_index_answering(
    kb: KnowledgeBase, settings: Settings, sources: Path
) -> None:
    good = kb.manifest().version
    write_filler(sources, 60)
    env = {
        **os.environ,
        "BRIEFBOT_SOURCES_DIR": str(settings.sources_dir),
        "BRIEFBOT_DATA_DIR": str(settings.data_dir),
    }
    briefbot = Path(sys.executable).parent / "briefbot"
    process = subprocess.Popen([str(briefbot), "ingest"], env=env)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        cache = settings.data_dir / "vectors.sqlite-wal"
        # Kill it once it is embedding the new documents (writing vectors), long before the end.
        while time.monotonic() < deadline and (
            not cache.exists() or cache.stat().st_size < 200_000
        ):
            time.sleep(0.05)
        assert process.poll() is None, "the reload finished before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    reopened = open_knowledge_base(settings)
    assert reopened.manifest().version == good
    assert reopened.ask(QUESTION).grounded
    for filler in sources.glob("filler-*.txt"):
        filler.unlink()
    (sources / "bridge.txt").write_text(
        "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n", encoding="utf-8"
    )
    recovered = reopened.ingest()
    assert recovered.version > good
    assert reopened.ask("How much will the Riverside bridge cost?").grounded
    names = {c.name for c in open_chroma(settings.chroma_dir).list_collections()}
    assert names == {f"briefbot-v{good}", f"briefbot-v{recovered.version}"}


# Runs a command with a small cap on file size: every write that grows a file past it fails
# with EFBIG, as writes fail on a full disk, and needs no root or spare filesystem.
FULL_DISK = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_a_reload_on_a_full_disk_says_so_and_changes_nothing(
    kb: KnowledgeBase, settings: Settings, sources: Path
) -> None:
    good = kb.manifest().version
    (sources / "bridge.txt").write_text(
        "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n", encoding="utf-8"
    )
    briefbot = Path(sys.executable).parent / "briefbot"
    env = {
        **os.environ,
        "BRIEFBOT_SOURCES_DIR": str(settings.sources_dir),
        "BRIEFBOT_DATA_DIR": str(settings.data_dir),
    }
    failed = subprocess.run(  # noqa: S603
        [sys.executable, "-c", FULL_DISK, str(briefbot), "reload"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "nothing was changed: the new index could not be written" in output
    assert "Traceback" not in output
    reopened = open_knowledge_base(settings)
    assert reopened.manifest().version == good
    assert reopened.ask(QUESTION).grounded
    assert not reopened.ask("How much will the Riverside bridge cost?").grounded
    recovered = reopened.ingest()  # room again: the same reload now goes through
    assert recovered.version > good
    assert reopened.ask("How much will the Riverside bridge cost?").grounded
    names = {c.name for c in open_chroma(settings.chroma_dir).list_collections()}
    assert names == {f"briefbot-v{good}", f"briefbot-v{recovered.version}"}
    reopened.close()
