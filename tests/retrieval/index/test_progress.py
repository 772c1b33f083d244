"""An ingest tells its progress: reading the files, embedding what is not cached (after each
batch), writing the new version; nothing but reading when nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config import Settings
from retrieval.index.live import LiveIndexes
from retrieval.index.store import IndexStore, chroma_client
from retrieval.index.vector_cache import VectorCache
from retrieval.models import IngestProgress
from tests.fakes.embedder import RecordingEmbedder


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.calls.append((stage, done, total))

    def stages(self) -> list[str]:
        """The stages in the order they were first told, each once."""
        seen: list[str] = []
        for stage, _, _ in self.calls:
            if not seen or seen[-1] != stage:
                seen.append(stage)
        return seen

    def of(self, stage: str) -> list[tuple[int, int]]:
        return [(done, total) for name, done, total in self.calls if name == stage]


def write_filler(sources: Path, count: int) -> None:
    """Files with enough sentences that embedding takes several batches."""
    for n in range(count):
        sentences = " ".join(
            f"Report {n} item {i} says the depot counted {i * 7 + n} crates." for i in range(12)
        )
        (sources / f"filler_{n:02}.txt").write_text(f"Depot {n}\n\n{sentences}\n", "utf-8")


@pytest.fixture
def embedder() -> RecordingEmbedder:
    return RecordingEmbedder()


@pytest.fixture
def indexes(settings: Settings, embedder: RecordingEmbedder) -> Iterator[LiveIndexes]:
    store = IndexStore(
        chroma_client(settings), settings.data_dir / "index", embedder, settings.index_name
    )
    live = LiveIndexes(settings, embedder, store, VectorCache(settings.data_dir / "vectors.db"))
    yield live
    live.close()


def test_a_first_ingest_reads_then_embeds_in_batches_then_writes(
    indexes: LiveIndexes, embedder: RecordingEmbedder, sources: Path
) -> None:
    write_filler(sources, 8)
    files = len(list(sources.iterdir()))
    recorder = Recorder()
    progress: IngestProgress = recorder  # the protocol the bot and CLI implement

    report = indexes.ingest(progress=progress)

    assert recorder.stages() == ["reading", "embedding", "writing"]
    assert recorder.of("reading") == [(done, files) for done in range(files + 1)]
    embedding = recorder.of("embedding")
    total = embedding[0][1]
    assert total == report.texts_embedded == len(embedder.texts) > 64  # more than one batch
    assert all(seen_total == total for _, seen_total in embedding)
    done = [d for d, _ in embedding]
    assert done[0] == 0
    assert done[-1] == total
    assert all(a < b for a, b in zip(done, done[1:], strict=False))
    assert len(done) >= 3  # 0, then once per batch
    assert recorder.of("writing") == [(0, 1), (1, 1)]


def test_a_reingest_embeds_only_what_changed_and_an_unchanged_one_only_reads(
    indexes: LiveIndexes, embedder: RecordingEmbedder, sources: Path
) -> None:
    indexes.ingest()
    (sources / "bridge.txt").write_text(
        "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n", "utf-8"
    )
    before = len(embedder.texts)
    changed = Recorder()
    report = indexes.ingest(progress=changed)
    assert changed.stages() == ["reading", "embedding", "writing"]
    assert changed.of("embedding")[-1] == (report.texts_embedded, report.texts_embedded)
    assert report.texts_embedded == len(embedder.texts) - before > 0

    unchanged = Recorder()
    again = indexes.ingest(progress=unchanged)
    assert not again.changed
    assert unchanged.stages() == ["reading"]
    assert unchanged.of("reading")[-1] == (2, 2)
