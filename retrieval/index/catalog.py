"""Where the index keeps what is not vectors: the owner id of its collections, one manifest
per version, the pointer naming the live (and previous) version, and the writer lock.

`FileCatalog` keeps them under `<data dir>/index`, for one machine. `DatabaseCatalog` keeps
them in the state database, so replicas sharing that database and a Chroma server share one
index: a version one replica publishes is what every replica serves at its next question, and
reloads from any replica take turns through the database's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, select, text

from retrieval.errors import IndexUnavailableError, ReloadInProgressError
from retrieval.models import Manifest
from retrieval.state.database import Database, index_pointers, index_versions, source_texts
from retrieval.storage import set_aside, write_atomically

_VERSION_FILE = re.compile(r"^v(\d+)\.json$")
_OWNER_FILE = "owner"
_BUSY = "a reload is already running; try again shortly"


class IndexCatalog(Protocol):
    def owner(self) -> str | None:
        """The id this index marks its collections with; None before its first publish."""
        ...

    def claim_owner(self) -> str:
        """The owner id, made on first use (call under the writer lock)."""
        ...

    def writer_lock(self, wait: bool = True) -> contextlib.AbstractContextManager[None]:
        """Ingests and rollbacks one at a time; with wait=False a second one raises
        ReloadInProgressError at once."""
        ...

    def pointer(self) -> dict[str, int]:
        """{"version": live, "previous": the one before}, either absent when there is none."""
        ...

    def point_to(self, version: int, previous: int | None) -> None: ...

    def manifest(self, version: int) -> Manifest:
        """IndexUnavailableError when it is missing or damaged."""
        ...

    def save_manifest(self, manifest: Manifest) -> None: ...

    def versions(self) -> dict[int, str | None]:
        """Every version with a manifest, and its collection's name (None: unreadable)."""
        ...

    def forget(self, version: int) -> None: ...

    def save_sources(self, texts: Mapping[str, str]) -> None:
        """The texts of a version's documents, by content hash, for replicas without the file."""
        ...

    def source_text(self, content_hash: str) -> str | None: ...

    def drop_unused_sources(self) -> None:
        """Drop the stored texts no version's manifest names."""
        ...

    def close(self) -> None: ...


@contextmanager
def _file_lock(path: Path, wait: bool) -> Iterator[None]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReloadInProgressError(_BUSY, "reload_running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _damaged(version: int) -> IndexUnavailableError:
    return IndexUnavailableError(
        f"index version {version} was damaged and is set aside; reloading rebuilds it",
        "index_version_set_aside",
        version=version,
    )


class FileCatalog:
    """Files under the index dir; the pointer and manifests are only ever replaced whole."""

    def __init__(self, index_dir: Path) -> None:
        self._dir = index_dir
        self._dir.mkdir(parents=True, exist_ok=True)

    def owner(self) -> str | None:
        try:
            return (self._dir / _OWNER_FILE).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def claim_owner(self) -> str:
        owner = self.owner()
        if owner is None:
            owner = uuid.uuid4().hex
            write_atomically(self._dir / _OWNER_FILE, owner)
        return owner

    def writer_lock(self, wait: bool = True) -> contextlib.AbstractContextManager[None]:
        return _file_lock(self._dir / ".lock", wait)

    def pointer(self) -> dict[str, int]:
        # One that does not parse is damaged: set aside, and the index rebuilt.
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
            raise IndexUnavailableError(
                f"the index pointer is unreadable ({error})",
                "pointer_unreadable",
                detail=str(error),
            ) from None

    def point_to(self, version: int, previous: int | None) -> None:
        pointer = {"version": version} | ({"previous": previous} if previous else {})
        write_atomically(self._dir / "current.json", json.dumps(pointer))

    def manifest(self, version: int) -> Manifest:
        path = self._dir / f"v{version}.json"
        try:
            return Manifest.from_json(path.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as error:
            # Written whole, never changed: one that does not parse is damaged. Set aside,
            # so the next reload rebuilds a version instead of tripping on it again.
            with contextlib.suppress(FileNotFoundError):
                set_aside(path, f"unreadable: {error}")
            raise _damaged(version) from None
        except OSError as error:
            raise IndexUnavailableError(
                f"index version {version} is unreadable ({error})",
                "index_version_unreadable",
                version=version,
                detail=str(error),
            ) from None

    def save_manifest(self, manifest: Manifest) -> None:
        write_atomically(self._dir / f"v{manifest.version}.json", manifest.to_json())

    def versions(self) -> dict[int, str | None]:
        named: dict[int, str | None] = {}
        for path in self._dir.iterdir():
            if match := _VERSION_FILE.match(path.name):
                named[int(match.group(1))] = None
                with contextlib.suppress(ValueError, KeyError, TypeError, OSError):
                    named[int(match.group(1))] = Manifest.from_json(
                        path.read_text(encoding="utf-8")
                    ).collection
        return named

    def forget(self, version: int) -> None:
        (self._dir / f"v{version}.json").unlink(missing_ok=True)

    # The files of the sources dir are the texts: nothing else is kept.
    def save_sources(self, texts: Mapping[str, str]) -> None:
        return

    def source_text(self, content_hash: str) -> str | None:
        return None

    def drop_unused_sources(self) -> None:
        return

    def close(self) -> None:
        """Nothing is held open between calls."""


class DatabaseCatalog:
    """Rows of the state database, keyed by the index name. The writer lock is PostgreSQL's
    advisory lock, held by one connection for the whole reload, so it is given up when that
    replica dies; on SQLite (one machine) a file lock in the index dir does the same."""

    def __init__(self, database: Database, index_name: str, index_dir: Path) -> None:
        self._database = database
        self._name = index_name
        self._lock_file = index_dir / ".lock"
        index_dir.mkdir(parents=True, exist_ok=True)
        # The advisory lock's key: one per index name, so two indexes reload independently.
        digest = hashlib.sha256(f"briefbot-index:{index_name}".encode()).digest()
        self._lock_key = int.from_bytes(digest[:8], "big", signed=True)

    def _row(self) -> tuple[int | None, int | None, str | None] | None:
        with self._database.transaction() as connection:
            row = connection.execute(
                select(
                    index_pointers.c.version, index_pointers.c.previous, index_pointers.c.owner
                ).where(index_pointers.c.index_name == self._name)
            ).one_or_none()
        return None if row is None else (row[0], row[1], row[2])

    def owner(self) -> str | None:
        row = self._row()
        return None if row is None else row[2]

    def claim_owner(self) -> str:
        owner = self.owner()
        if owner is None:
            owner = uuid.uuid4().hex
            with self._database.transaction() as connection:
                self._database.upsert(
                    connection,
                    index_pointers,
                    {"index_name": self._name, "owner": owner},
                    keys=("index_name",),
                )
        return owner

    def writer_lock(self, wait: bool = True) -> contextlib.AbstractContextManager[None]:
        if self._database.dialect != "postgresql":
            return _file_lock(self._lock_file, wait)
        return self._advisory_lock(wait)

    @contextmanager
    def _advisory_lock(self, wait: bool) -> Iterator[None]:
        with self._database.engine.connect() as connection:
            if wait:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self._lock_key})
            elif not connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._lock_key}
            ).scalar():
                raise ReloadInProgressError(_BUSY, "reload_running")
            connection.commit()  # the lock is the session's: no transaction is held open
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._lock_key}
                )
                connection.commit()

    def pointer(self) -> dict[str, int]:
        row = self._row()
        if row is None:
            return {}
        return {key: value for key, value in (("version", row[0]), ("previous", row[1])) if value}

    def point_to(self, version: int, previous: int | None) -> None:
        with self._database.transaction() as connection:
            self._database.upsert(
                connection,
                index_pointers,
                {"index_name": self._name, "version": version, "previous": previous},
                keys=("index_name",),
            )

    def manifest(self, version: int) -> Manifest:
        with self._database.transaction() as connection:
            raw = connection.execute(
                select(index_versions.c.manifest).where(
                    (index_versions.c.index_name == self._name)
                    & (index_versions.c.version == version)
                )
            ).scalar()
        if raw is None:
            raise IndexUnavailableError(
                f"index version {version} has no manifest", "no_manifest", version=version
            )
        try:
            return Manifest.from_json(raw)
        except (ValueError, KeyError, TypeError):
            self.forget(version)
            raise _damaged(version) from None

    def save_manifest(self, manifest: Manifest) -> None:
        with self._database.transaction() as connection:
            self._database.upsert(
                connection,
                index_versions,
                {
                    "index_name": self._name,
                    "version": manifest.version,
                    "manifest": manifest.to_json(),
                },
                keys=("index_name", "version"),
            )

    def versions(self) -> dict[int, str | None]:
        with self._database.transaction() as connection:
            rows = connection.execute(
                select(index_versions.c.version, index_versions.c.manifest).where(
                    index_versions.c.index_name == self._name
                )
            ).all()
        named: dict[int, str | None] = {}
        for version, raw in rows:
            named[version] = None
            with contextlib.suppress(ValueError, KeyError, TypeError):
                named[version] = Manifest.from_json(raw).collection
        return named

    def forget(self, version: int) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                delete(index_versions).where(
                    (index_versions.c.index_name == self._name)
                    & (index_versions.c.version == version)
                )
            )

    def save_sources(self, texts: Mapping[str, str]) -> None:
        with self._database.transaction() as connection:
            for content_hash, body in texts.items():
                self._database.upsert(
                    connection,
                    source_texts,
                    {"content_hash": content_hash, "text": body},
                    keys=("content_hash",),
                )

    def source_text(self, content_hash: str) -> str | None:
        with self._database.transaction() as connection:
            return connection.execute(
                select(source_texts.c.text).where(source_texts.c.content_hash == content_hash)
            ).scalar()

    def drop_unused_sources(self) -> None:
        # Texts are kept by content, shared by every index name in this database.
        used: set[str] = set()
        with self._database.transaction() as connection:
            for raw in connection.execute(select(index_versions.c.manifest)).scalars():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    used |= set(Manifest.from_json(raw).content_hashes().values())
            stored = set(connection.execute(select(source_texts.c.content_hash)).scalars())
            if stale := stored - used:
                connection.execute(
                    delete(source_texts).where(source_texts.c.content_hash.in_(stale))
                )

    def close(self) -> None:
        self._database.close()
