"""Versioned passage index in Chroma: each ingest that changes something publishes a new
collection, and a pointer file swapped atomically says which version is live.

Readers never see a half-built index: a version becomes visible only after its collection is
complete and its manifest is on disk. The previous version is kept (for a rollback); older
ones and orphans of a crashed ingest are removed at the next publish.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from retrieval.errors import IndexUnavailableError, IngestError, ReloadInProgressError
from retrieval.index.embedders import Embedder
from retrieval.models import DocumentInfo, Manifest, Matrix, Passage, Span
from retrieval.storage import set_aside, write_atomically

log = logging.getLogger(__name__)

_COLLECTION_PREFIX = "passages_v"
_VERSION_FILE = re.compile(r"^v(\d+)\.json$")


class _OwnChromaSettings(ChromaSettings):
    """Chroma's settings from our arguments alone: its own CHROMA_* environment variables
    (or a CHROMA_* line in .env) must not move the index to a server behind the operator's
    back."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def open_chroma(path: Path) -> ClientAPI:
    """An on-disk Chroma client with telemetry off (nothing may leave the machine). A store
    Chroma cannot open is set aside and a new one started: the sources rebuild it."""
    path.mkdir(parents=True, exist_ok=True)
    settings = _OwnChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except ChromaError as error:
        set_aside(path, str(error))
        # Chroma keeps one system per path for the process, the broken one included.
        SharedSystemClient._identifier_to_system.pop(str(path), None)  # noqa: SLF001
        path.mkdir(parents=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)


def _metadata(passage: Passage) -> dict[str, str | int]:
    return {
        "document": passage.doc_id,
        "file_name": passage.file_name,
        "title": passage.title,
        "date": passage.date or "",
        "section": passage.section,
        "chunk_index": passage.chunk_index,
        "start": passage.start,
        "end": passage.end,
        "content_hash": passage.content_hash,
        "sentences": ";".join(f"{span.start}:{span.end}" for span in passage.sentences),
    }


def _passage(chunk_id: str, text: str, metadata: dict[str, Any]) -> Passage:
    sentences = tuple(
        Span(int(start), int(end))
        for start, end in (pair.split(":") for pair in str(metadata["sentences"]).split(";"))
    )
    return Passage(
        chunk_id=chunk_id,
        doc_id=str(metadata["document"]),
        file_name=str(metadata["file_name"]),
        title=str(metadata["title"]),
        date=str(metadata["date"]) or None,
        section=str(metadata["section"]),
        chunk_index=int(metadata["chunk_index"]),
        start=int(metadata["start"]),
        end=int(metadata["end"]),
        text=text,
        content_hash=str(metadata["content_hash"]),
        sentences=sentences,
    )


class IndexStore:
    """The index versions under `<data dir>/index` and their Chroma collections."""

    def __init__(self, client: ClientAPI, index_dir: Path, embedder: Embedder) -> None:
        self._client = client
        self._dir = index_dir
        self._embedder = embedder
        self._dir.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def writer_lock(self, wait: bool = True) -> Iterator[None]:
        """Serialise ingests and rollbacks across threads and processes. A second one waits
        its turn, or with wait=False raises ReloadInProgressError."""
        with (self._dir / ".lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ReloadInProgressError(
                    "a reload is already running; try again shortly"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _pointer(self) -> dict[str, int]:
        """The live and previous version numbers. The pointer is only ever replaced whole,
        so one that does not parse is damaged: it is set aside and the index rebuilt."""
        path = self._dir / "current.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return {key: int(raw[key]) for key in ("version", "previous") if raw.get(key)}
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            with contextlib.suppress(FileNotFoundError):  # another process set it aside
                set_aside(path, f"unreadable: {error}")
            return {}
        except OSError as error:
            raise IndexUnavailableError(f"the index pointer is unreadable ({error})") from None

    def current_version(self) -> int | None:
        """The live version number: cheap enough to check before every question."""
        return self._pointer().get("version")

    def rollback(self) -> Manifest:
        """Serve the previous version again (call under writer_lock); the version rolled back
        from becomes the previous one, so a second rollback undoes the first."""
        pointer = self._pointer()
        previous = pointer.get("previous")
        if previous is None:
            raise IndexUnavailableError("there is no previous index version to roll back to")
        manifest = self.manifest(previous)
        if not self.is_intact(manifest):
            raise IndexUnavailableError(f"the previous index version {previous} is incomplete")
        self._point_to(previous, pointer.get("version"))
        return manifest

    def _point_to(self, version: int, previous: int | None) -> None:
        pointer = {"version": version} | ({"previous": previous} if previous else {})
        write_atomically(self._dir / "current.json", json.dumps(pointer))

    def current(self) -> Manifest | None:
        version = self.current_version()
        return None if version is None else self.manifest(version)

    def manifest(self, version: int) -> Manifest:
        path = self._dir / f"v{version}.json"
        try:
            return Manifest.from_json(path.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as error:
            # Written whole, never changed: one that does not parse is damaged. Set aside,
            # so the next reload rebuilds a version instead of tripping on it again.
            with contextlib.suppress(FileNotFoundError):
                set_aside(path, f"unreadable: {error}")
            raise IndexUnavailableError(
                f"index version {version} was damaged and is set aside; reloading rebuilds it"
            ) from None
        except OSError as error:
            raise IndexUnavailableError(
                f"index version {version} is unreadable ({error})"
            ) from None

    def is_intact(self, manifest: Manifest) -> bool:
        """The version's collection exists and holds every chunk its manifest lists."""
        try:
            return self.collection(manifest).count() == manifest.chunk_count
        except IndexUnavailableError:
            return False

    def collection(self, manifest: Manifest) -> Collection:
        try:
            # No embedding function passed: Chroma rebuilds the registered one the collection
            # was created with, and refuses a different one.
            return self._client.get_collection(manifest.collection)
        except Exception as error:  # Chroma raises several types for a missing collection
            raise IndexUnavailableError(
                f"index version {manifest.version} is damaged ({error}); run `briefbot ingest`"
            ) from error

    def passages(self, manifest: Manifest) -> list[Passage]:
        collection = self.collection(manifest)
        result = collection.get(include=["documents", "metadatas"])
        documents = result["documents"] or []
        metadatas = result["metadatas"] or []
        passages = [
            _passage(chunk_id, text, dict(metadata))
            for chunk_id, text, metadata in zip(result["ids"], documents, metadatas, strict=True)
        ]
        return sorted(passages, key=lambda passage: (passage.doc_id, passage.chunk_index))

    def chunk_ids(self, manifest: Manifest) -> set[str]:
        return set(self.collection(manifest).get(include=[])["ids"])

    def publish(
        self,
        passages: Sequence[Passage],
        vectors: Matrix,
        documents: Sequence[DocumentInfo],
        chunk_chars: int,
    ) -> Manifest:
        """Build a complete new version, then make it the live one. Call under writer_lock.
        A write that fails (a full disk, say) raises IngestError with the pointer unmoved:
        the previous version goes on serving, and the next publish clears the leftovers."""
        version = self._next_version()
        manifest = Manifest(
            version=version,
            collection=f"{_COLLECTION_PREFIX}{version}",
            embedder=self._embedder.identity,
            chunk_chars=chunk_chars,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            documents=tuple(documents),
        )
        previous = self.current_version()
        try:
            self._write_collection(manifest, passages, vectors)
            write_atomically(self._dir / f"v{version}.json", manifest.to_json())
            self._point_to(version, previous)
        except (OSError, ChromaError) as error:
            raise IngestError(
                f"nothing was changed: the new index could not be written ({error})"
            ) from error
        try:
            self._remove_unused(keep={version} | ({previous} if previous else set()))
        except (OSError, ChromaError) as error:
            log.warning(
                "index v%s is live; older versions stay until the next reload (%s)", version, error
            )
        return manifest

    def _write_collection(
        self, manifest: Manifest, passages: Sequence[Passage], vectors: Matrix
    ) -> None:
        collection = self._client.create_collection(
            manifest.collection,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": manifest.embedder, "version": manifest.version},
            # Chroma types this for every kind of embeddable input; ours embeds text.
            embedding_function=cast(Any, self._embedder),
        )
        batch = self._client.get_max_batch_size()
        for offset in range(0, len(passages), batch):
            part = passages[offset : offset + batch]
            collection.add(
                ids=[passage.chunk_id for passage in part],
                documents=[passage.text for passage in part],
                metadatas=[_metadata(passage) for passage in part],
                embeddings=vectors[offset : offset + batch],
            )

    def _next_version(self) -> int:
        versions = [0]
        versions += [
            int(m.group(1)) for p in self._dir.iterdir() if (m := _VERSION_FILE.match(p.name))
        ]
        versions += [
            int(name[len(_COLLECTION_PREFIX) :])
            for name in self._collection_names()
            if name[len(_COLLECTION_PREFIX) :].isdigit()
        ]
        return max(versions) + 1

    def _collection_names(self) -> list[str]:
        return [
            c.name
            for c in self._client.list_collections()
            if c.name.startswith(_COLLECTION_PREFIX)
        ]

    def _remove_unused(self, keep: set[int]) -> None:
        for name in self._collection_names():
            suffix = name[len(_COLLECTION_PREFIX) :]
            if suffix.isdigit() and int(suffix) not in keep:
                self._client.delete_collection(name)
        for path in self._dir.iterdir():
            match = _VERSION_FILE.match(path.name)
            if match and int(match.group(1)) not in keep:
                path.unlink()
