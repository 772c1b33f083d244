"""Versioned passage index in Chroma: each ingest that changes something publishes a new
collection, and a pointer swapped atomically says which version is live (a file in the data
dir, or a row of the state database shared by replicas: see catalog.py).

Readers never see a half-built index: a version becomes visible only after its collection is
complete and its manifest is stored. The previous version is kept (for a rollback); older
ones and orphans of a crashed ingest are removed at the next publish.

Chroma is embedded in the data dir, or a server (`chroma run`) that other bots may share.
Collections are named `<index name>-v<N>`, and each is marked with the id of the data dir that
created it: cleanup deletes only collections of this data dir, so another bot's index on the
same server, under another name or the same one, is never touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.client import Client
from chromadb.api.models.Collection import Collection
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.api.types import GetResult
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from config import Settings
from retrieval.errors import (
    IndexServerUnreachableError,
    IndexUnavailableError,
    IngestError,
)
from retrieval.index.catalog import FileCatalog, IndexCatalog
from retrieval.index.embedders import Embedder
from retrieval.models import DocumentInfo, Manifest, Matrix, Passage, Span
from retrieval.state.database import DatabaseUnavailableError
from retrieval.storage import set_aside

log = logging.getLogger(__name__)

# Rows per read: one `get` of a whole collection binds a SQL variable per row and fails at
# about 30k passages ("too many SQL variables"). Each page's rows are held in memory at once
# while Chroma reads them: at 10k passages pages of 5,000 added about 150 MB to the peak RSS,
# pages of 1,000 about 50 MB, and read no slower (0.8 s against 0.9 s).
PAGE_SIZE = 1000


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


def open_chroma_server(host: str, port: int, ssl: bool, token: SecretStr | None) -> ClientAPI:
    """A client of a Chroma server, the token sent as a bearer token. A server that cannot
    be reached (or refuses us) is IndexServerUnreachableError naming host:port."""
    headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else None
    settings = _OwnChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        return chromadb.HttpClient(
            host=host, port=port, ssl=ssl, headers=headers, settings=settings
        )
    except Exception as error:  # Chroma wraps a refused connection or a 401 in several types
        detail = str(error)
        if token:  # a proxy's refusal may echo what it was sent
            detail = detail.replace(token.get_secret_value(), "***")
        raise _unreachable(f"{host}:{port}", detail) from None


def chroma_client(settings: Settings) -> ClientAPI:
    """The Chroma the settings name: a server with BRIEFBOT_CHROMA_HOST, else embedded."""
    if settings.chroma_host is None:
        return open_chroma(settings.chroma_dir)
    return open_chroma_server(
        settings.chroma_host, settings.chroma_port, settings.chroma_ssl, settings.chroma_token
    )


def _unreachable(server: str, detail: str) -> IndexServerUnreachableError:
    # The detail comes from the connection or the server's reply, never our headers.
    return IndexServerUnreachableError(
        f"the Chroma server at {server} cannot be used ({detail}); start it, or check "
        "BRIEFBOT_CHROMA_HOST, BRIEFBOT_CHROMA_PORT, BRIEFBOT_CHROMA_SSL and "
        "BRIEFBOT_CHROMA_TOKEN",
        "index_server_unreachable",
        server=server,
        detail=detail,
    )


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


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where there is none (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None), "malloc_trim", None)


def release_freed_memory() -> None:
    """Hand memory already freed back to the OS. glibc keeps freed heap in its arenas, and
    Chroma's Rust side frees a lot at once: at 10k passages (bench.scale) reading them back
    in pages of 5,000 left about 120 MB of free heap in RSS, and the publish before it about
    95 MB more. Frees nothing live, so nothing answered changes."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class IndexStore:
    """The index versions under `<data dir>/index` and their Chroma collections, named after
    the deployment's index name."""

    def __init__(
        self,
        client: ClientAPI,
        index_dir: Path,
        embedder: Embedder,
        index_name: str,
        page_size: int = PAGE_SIZE,
        catalog: IndexCatalog | None = None,
    ) -> None:
        self._client = client
        self._catalog = catalog or FileCatalog(index_dir)
        self._embedder = embedder
        self._prefix = f"{index_name}-v"
        self._name = re.compile(rf"^{re.escape(self._prefix)}(\d+)$")
        self._page_size = page_size
        chroma = client.get_settings()
        self._server = (
            f"{chroma.chroma_server_host}:{chroma.chroma_server_http_port}"
            if chroma.chroma_server_host
            else None
        )

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """A server gone away is said as such, not taken for a damaged or missing index."""
        try:
            yield
        except httpx.TransportError as error:
            raise _unreachable(str(self._server), str(error)) from None

    def check_reachable(self) -> None:
        """IndexServerUnreachableError unless Chroma answers (embedded: always)."""
        with self._reaching():
            self._client.heartbeat()

    @property
    def owner(self) -> str | None:
        """The id this index marks its collections with; None before its first publish."""
        return self._catalog.owner()

    def writer_lock(self, wait: bool = True) -> contextlib.AbstractContextManager[None]:
        """Serialise ingests and rollbacks across threads, processes and (with the database
        catalog on PostgreSQL) replicas. A second one waits its turn, or with wait=False
        raises ReloadInProgressError."""
        return self._catalog.writer_lock(wait)

    def close(self) -> None:
        """Release the catalog and, for embedded Chroma, the client this store was given:
        Chroma keeps the SQLite and HNSW files of a data dir open until its last client
        closes. (A server's client is left alone: closing it stops the system its HTTP
        connections belong to without closing them, and one is shared per server anyway.)"""
        self._catalog.close()
        if self._server is None and isinstance(self._client, Client):
            self._client.close()

    def current_version(self) -> int | None:
        """The live version number: cheap enough to check before every question."""
        return self._catalog.pointer().get("version")

    def rollback(self) -> Manifest:
        """Serve the previous version again (call under writer_lock); the version rolled back
        from becomes the previous one, so a second rollback undoes the first."""
        pointer = self._catalog.pointer()
        previous = pointer.get("previous")
        if previous is None:
            raise IndexUnavailableError(
                "there is no previous index version to roll back to", "no_previous_version"
            )
        manifest = self.manifest(previous)
        if not self.is_intact(manifest):
            raise IndexUnavailableError(
                f"the previous index version {previous} is incomplete",
                "previous_version_incomplete",
                version=previous,
            )
        self._catalog.point_to(previous, pointer.get("version"))
        return manifest

    def current(self) -> Manifest | None:
        version = self.current_version()
        return None if version is None else self.manifest(version)

    def manifest(self, version: int) -> Manifest:
        return self._catalog.manifest(version)

    def stored_text(self, doc_id: str) -> str | None:
        """The live version's text of a document, as published (database catalog only), for
        a replica whose sources dir lacks the file; None otherwise."""
        manifest = self.current()
        content_hash = manifest.content_hashes().get(doc_id) if manifest else None
        return None if content_hash is None else self._catalog.source_text(content_hash)

    def is_intact(self, manifest: Manifest) -> bool:
        """The version's collection exists and holds every chunk its manifest lists."""
        try:
            with self._reaching():
                return self.collection(manifest).count() == manifest.chunk_count
        except IndexServerUnreachableError:
            raise  # not a reason to rebuild: the server is down, not the index
        except IndexUnavailableError:
            return False

    def collection(self, manifest: Manifest) -> Collection:
        try:
            # No embedding function passed: Chroma rebuilds the registered one the collection
            # was created with, and refuses a different one.
            with self._reaching():
                return self._client.get_collection(manifest.collection)
        except IndexServerUnreachableError:
            raise
        except Exception as error:  # Chroma raises several types for a missing collection
            raise IndexUnavailableError(
                f"index version {manifest.version} is damaged ({error}); run `briefbot ingest`",
                "index_version_damaged",
                version=manifest.version,
                detail=str(error),
            ) from error

    def passages(self, manifest: Manifest) -> list[Passage]:
        # Before the read, so its transient does not stack on what an ingest left; after it,
        # so the serving process does not keep the read's transient.
        release_freed_memory()
        passages = [
            _passage(chunk_id, text, dict(metadata))
            for page in self._pages(manifest, include_text=True)
            for chunk_id, text, metadata in zip(
                page["ids"], page["documents"] or [], page["metadatas"] or [], strict=True
            )
        ]
        release_freed_memory()
        return sorted(passages, key=lambda passage: (passage.doc_id, passage.chunk_index))

    def chunk_ids(self, manifest: Manifest) -> set[str]:
        return {
            chunk_id
            for page in self._pages(manifest, include_text=False)
            for chunk_id in page["ids"]
        }

    def _pages(self, manifest: Manifest, include_text: bool) -> Iterator[GetResult]:
        """The whole collection in pages of page_size rows. A version is never changed after
        its publish, so offsets stay put between pages."""
        collection = self.collection(manifest)
        include: list[Any] = ["documents", "metadatas"] if include_text else []
        offset = 0
        while True:
            with self._reaching():
                page = collection.get(include=include, limit=self._page_size, offset=offset)
            yield page
            if len(page["ids"]) < self._page_size:
                return
            offset += self._page_size

    def publish(
        self,
        passages: Sequence[Passage],
        vectors: Matrix,
        documents: Sequence[DocumentInfo],
        chunk_chars: int,
        texts: Mapping[str, str] | None = None,
        passage_vectors: str = "sentences",
    ) -> Manifest:
        """Build a complete new version, then make it the live one. Call under writer_lock.
        passage_vectors: how the vectors were made (BRIEFBOT_PASSAGE_VECTORS), for the manifest.
        A write that fails (a full disk, say) raises IngestError with the pointer unmoved:
        the previous version goes on serving, and the next publish clears the leftovers."""
        previous = self.current_version()
        try:
            with self._reaching():
                manifest, collection = self._create_collection(
                    chunk_chars, documents, passage_vectors
                )
                self._fill(collection, passages, vectors)
            self._catalog.save_sources(texts or {})  # before the manifest that needs them
            self._catalog.save_manifest(manifest)
            self._catalog.point_to(manifest.version, previous)
        except (OSError, ChromaError, DatabaseUnavailableError) as error:
            raise IngestError(
                f"nothing was changed: the new index could not be written ({error})",
                reason="index_not_written",
                detail=str(error),
            ) from error
        try:
            with self._reaching():
                self._remove_unused(keep={manifest.version} | ({previous} if previous else set()))
        except (
            OSError,
            ChromaError,
            IndexServerUnreachableError,
            DatabaseUnavailableError,
        ) as error:
            log.warning(
                "index v%s is live; older versions stay until the next reload (%s)",
                manifest.version,
                error,
            )
        return manifest

    def _create_collection(
        self, chunk_chars: int, documents: Sequence[DocumentInfo], passage_vectors: str
    ) -> tuple[Manifest, Collection]:
        """The next version's manifest and its new, empty collection. Another data dir with
        the same index name may take the same number at the same moment: the server refuses
        the second create, and that one tries the number after."""
        owner = self._catalog.claim_owner()
        version = self._next_version()
        while True:
            manifest = Manifest(
                version=version,
                collection=f"{self._prefix}{version}",
                embedder=self._embedder.identity,
                chunk_chars=chunk_chars,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                documents=tuple(documents),
                passage_vectors=passage_vectors,
            )
            try:
                collection = self._client.create_collection(
                    manifest.collection,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={
                        "embedder": manifest.embedder,
                        "version": manifest.version,
                        "owner": owner,
                    },
                    # Chroma types this for every kind of embeddable input; ours embeds text.
                    embedding_function=cast(Any, self._embedder),
                )
            except ChromaError:
                if manifest.collection not in self._collection_names():
                    raise
                version = self._next_version()
                continue
            return manifest, collection

    def _fill(self, collection: Collection, passages: Sequence[Passage], vectors: Matrix) -> None:
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
        """Above every version of this data dir and every collection of this index name on
        the server, whoever made it: a name is never reused."""
        versions = [0, *self._catalog.versions().keys()]
        versions += [
            int(match.group(1))
            for name in self._collection_names()
            if (match := self._name.match(name))
        ]
        return max(versions) + 1

    def _collection_names(self) -> list[str]:
        return [collection.name for collection in self._client.list_collections()]

    def _remove_unused(self, keep: set[int]) -> None:
        """Delete what this data dir made and no longer needs: the collections marked with
        its owner id (orphans of a crashed publish and those of an earlier index name
        included), and unmarked ones its own manifests name (from before index names,
        `passages_v<N>`, served and rolled back to as before); then the manifests of versions
        not kept."""
        versions = self._catalog.versions()
        named = {version: name for version, name in versions.items() if name is not None}
        kept = {named[version] for version in keep if version in named}
        owner = self.owner
        for collection in self._client.list_collections():
            if collection.name in kept:
                continue
            marked = (collection.metadata or {}).get("owner")
            ours = marked == owner if marked else collection.name in named.values()
            if ours:
                with contextlib.suppress(NotFoundError):  # another process of ours was first
                    self._client.delete_collection(collection.name)
        for version in versions:
            if version not in keep:
                self._catalog.forget(version)
        self._catalog.drop_unused_sources()
