"""Replicas sharing one PostgreSQL database and one Chroma server serve one index: what one
publishes or rolls back is what the other answers from, and their reloads take turns."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.errors import ReloadInProgressError
from retrieval.service import KnowledgeBase
from tests.fakes.postgres import PostgresServer

BRIDGE = "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n"
BRIDGE_QUESTION = "How much will the Riverside bridge cost?"


@pytest.fixture
def replicas(
    make_settings: Callable[..., Settings], postgres: PostgresServer, tmp_path: Path
) -> Iterator[tuple[KnowledgeBase, KnowledgeBase]]:
    """Two knowledge bases, each with its own data dir, sharing the sources, the database
    and (from the `backend` fixture) the Chroma server, as two containers of compose would."""
    url = postgres.new_database()
    first, second = (
        open_knowledge_base(make_settings(data_dir=tmp_path / name, database_url=url))
        for name in ("replica-a", "replica-b")
    )
    try:
        yield first, second
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("backend", ["server"], indirect=True)
def test_a_reload_and_a_rollback_through_one_replica_are_served_by_the_other(
    replicas: tuple[KnowledgeBase, KnowledgeBase], sources: Path
) -> None:
    a, b = replicas
    first = a.ingest()
    assert b.ensure_index() is not None  # nothing changed: b publishes nothing new
    assert b.manifest().version == first.version
    assert "bridge" not in b.ask(BRIDGE_QUESTION).text.lower()

    (sources / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
    second = a.ingest()
    assert second.version > first.version
    answer = b.ask(BRIDGE_QUESTION)  # b noticed the new pointer at this question
    assert b.manifest().version == second.version
    assert "42 million" in answer.text

    a_back = b.rollback()
    assert a_back.version == first.version
    assert a.manifest().version == first.version
    assert "42 million" not in a.ask(BRIDGE_QUESTION).text


@pytest.mark.parametrize("backend", ["server"], indirect=True)
def test_reloads_from_two_replicas_take_turns_through_the_database(
    replicas: tuple[KnowledgeBase, KnowledgeBase], sources: Path
) -> None:
    a, b = replicas
    a.ingest()
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with a.indexes.store.writer_lock():
            holding.set()
            release.wait()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(60)
        with pytest.raises(ReloadInProgressError):
            b.ingest(wait=False)
        with pytest.raises(ReloadInProgressError):
            b.rollback()
    finally:
        release.set()
        holder.join()
    (sources / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
    report = b.ingest(wait=False)  # the lock was given up with the holder's block
    assert a.manifest().version == report.version


@pytest.mark.parametrize("backend", ["server"], indirect=True)
def test_a_publish_by_one_replica_keeps_the_version_the_other_published(
    replicas: tuple[KnowledgeBase, KnowledgeBase], sources: Path
) -> None:
    a, b = replicas
    first = a.ingest()
    (sources / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
    second = b.ingest()
    # One owner id for both (it is in the database): b's cleanup kept a's version, the
    # previous one, so a rollback through a still has it.
    assert a.indexes.store.owner == b.indexes.store.owner
    assert a.rollback().version == first.version
    assert a.indexes.store.is_intact(a.manifest())
    assert second.version == first.version + 1


@pytest.mark.parametrize("backend", ["server"], indirect=True)
def test_a_document_only_one_replica_has_is_quoted_verbatim_on_the_other(
    make_settings: Callable[..., Settings], postgres: PostgresServer, tmp_path: Path, sources: Path
) -> None:
    url = postgres.new_database()
    uploaded = tmp_path / "sources-a"
    shutil.copytree(sources, uploaded)
    (uploaded / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
    a = open_knowledge_base(
        make_settings(data_dir=tmp_path / "a", sources_dir=uploaded, database_url=url)
    )
    b = open_knowledge_base(make_settings(data_dir=tmp_path / "b", database_url=url))
    try:
        a.ingest()
        answer = b.ask(BRIDGE_QUESTION)  # b's sources dir has no bridge.txt
        assert [c.document for c in answer.citations] == ["bridge.txt"]
        assert answer.citations[0].quote in BRIDGE
        (uploaded / "bridge.txt").unlink()
        a.ingest()  # once no version names it, its text goes from the database too
        a.ingest()
        assert a.indexes.store.stored_text("bridge.txt") is None
    finally:
        a.close()
        b.close()
