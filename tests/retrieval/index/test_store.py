"""The store on its own: reading a collection in pages, and a data dir from before index
names (collections `passages_v<N>`) served, rolled back to and replaced cleanly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.index.embedders import make_embedder
from retrieval.index.live import LiveIndexes
from retrieval.index.store import IndexStore, chroma_client, open_chroma
from retrieval.index.vector_cache import VectorCache
from retrieval.service import KnowledgeBase
from tests.fakes.chroma_server import both_backends

QUESTION = "How many U.S. troops are stationed in Iraq?"
BRIDGE = "Bridge report\n\nThe Riverside bridge will cost {} million euros.\n"


@both_backends
def test_a_collection_is_read_in_pages(kb: KnowledgeBase, settings: Settings) -> None:
    live = kb.manifest()
    whole = kb.indexes.store
    assert live.chunk_count > 5
    # A last page part full, and one exactly full followed by an empty one.
    for size in (2, live.chunk_count):
        paged = IndexStore(
            chroma_client(settings),
            settings.data_dir / "index",
            kb.indexes.embedder,
            settings.index_name,
            page_size=size,
        )
        assert paged.passages(live) == whole.passages(live)
        assert len(paged.passages(live)) == live.chunk_count
        assert paged.chunk_ids(live) == whole.chunk_ids(live)
        assert len(paged.chunk_ids(live)) == live.chunk_count


class RacingClient:
    """Chroma's client, with another bot of the same index name creating the very collection
    we are about to create, between our choosing its number and our create."""

    def __init__(self, client: ClientAPI) -> None:
        self._client = client
        self.taken: list[str] = []

    def create_collection(self, name: str, **options: Any) -> Collection:
        if not self.taken:
            self._client.create_collection(name, metadata={"owner": "another-bot"})
            self.taken.append(name)
        return self._client.create_collection(name, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@both_backends
def test_a_version_number_taken_meanwhile_is_skipped_and_left_alone(
    settings: Settings, sources: Path
) -> None:
    client = RacingClient(chroma_client(settings))
    embedder = make_embedder(settings)
    store = IndexStore(client, settings.data_dir / "index", embedder, settings.index_name)
    indexes = LiveIndexes(settings, embedder, store, VectorCache(settings.data_dir / "v.sqlite"))
    try:
        first = indexes.ingest()
        (sources / "bridge.txt").write_text(BRIDGE.format(42), encoding="utf-8")
        second = indexes.ingest()
    finally:
        indexes.close()
    assert client.taken == [f"{settings.index_name}-v1"]
    assert (first.version, second.version) == (2, 3)
    names = {c.name for c in chroma_client(settings).list_collections()}
    assert {f"{settings.index_name}-v{v}" for v in (1, 2, 3)} <= names  # the other's kept


def make_legacy(settings: Settings, kb: KnowledgeBase) -> str:
    """Turn the live version into what a data dir from before index names holds: its
    collection named `passages_v<N>`, and its manifest naming it so."""
    live = kb.manifest()
    legacy = f"passages_v{live.version}"
    open_chroma(settings.chroma_dir).get_collection(live.collection).modify(name=legacy)
    path = settings.data_dir / "index" / f"v{live.version}.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(manifest | {"collection": legacy}), encoding="utf-8")
    return legacy


def test_an_index_from_before_index_names_is_served_then_replaced(
    kb: KnowledgeBase, settings: Settings, sources: Path
) -> None:
    old = kb.manifest().version
    legacy = make_legacy(settings, kb)
    client = open_chroma(settings.chroma_dir)
    reopened = open_knowledge_base(settings)
    try:
        assert not reopened.ingest().changed  # served as it is, nothing rebuilt
        assert reopened.ask(QUESTION).grounded
        (sources / "bridge.txt").write_text(BRIDGE.format(42), encoding="utf-8")
        newer = reopened.ingest().version
        assert {c.name for c in client.list_collections()} == {legacy, f"briefbot-v{newer}"}
        assert reopened.rollback().version == old
        assert not reopened.ask("How much will the Riverside bridge cost?").grounded
        assert reopened.rollback().version == newer
        (sources / "bridge.txt").write_text(BRIDGE.format(43), encoding="utf-8")
        newest = reopened.ingest().version
        # No longer kept: the legacy collection goes with the rest of this data dir's.
        assert {c.name for c in client.list_collections()} == {
            f"briefbot-v{newer}",
            f"briefbot-v{newest}",
        }
    finally:
        reopened.close()


def test_a_renamed_index_serves_its_old_versions_until_replaced(
    make_settings: Callable[..., Settings], sources: Path
) -> None:
    client = open_chroma(make_settings().chroma_dir)
    first = open_knowledge_base(make_settings(index_name="first"))
    old = first.ingest().version
    first.close()
    renamed = open_knowledge_base(make_settings(index_name="second"))
    try:
        assert not renamed.ingest().changed  # the live version is served under its old name
        names = []
        for cost in (42, 43):
            (sources / "bridge.txt").write_text(BRIDGE.format(cost), encoding="utf-8")
            renamed.ingest()
            names.append({c.name for c in client.list_collections()})
        assert names == [
            {f"first-v{old}", f"second-v{old + 1}"},
            {f"second-v{old + 1}", f"second-v{old + 2}"},  # this data dir's, so cleaned up
        ]
    finally:
        renamed.close()


def _open_files_under(directory: Path) -> list[str]:
    opened = []
    for descriptor in Path("/proc/self/fd").iterdir():
        try:
            target = descriptor.readlink()
        except OSError:  # closed between the listing and the read
            continue
        if target.is_relative_to(directory):
            opened.append(str(target))
    return opened


def test_closing_a_knowledge_base_releases_its_chroma_files(settings: Settings) -> None:
    """Embedded Chroma holds a data dir's SQLite and HNSW files until its last client closes;
    a bot, a test or a benchmark that opens knowledge bases one after another must not keep
    them all."""
    kb = open_knowledge_base(settings)
    kb.ingest()
    assert kb.ask(QUESTION).grounded
    assert _open_files_under(settings.chroma_dir)  # the check below can see them
    kb.close()
    assert _open_files_under(settings.chroma_dir) == []
