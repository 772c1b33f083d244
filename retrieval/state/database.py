"""The bot's state in one database, through SQLAlchemy: a SQLite file in the data dir by
default (nothing to set up on one machine), PostgreSQL when several replicas share it
(BRIEFBOT_DATABASE_URL=postgresql+psycopg://user:password@host/db).

The schema is changed only by numbered migrations, applied in order at open and recorded in
`schema_migrations`; replicas starting at once apply each one once (PostgreSQL: under an
advisory lock). Migration 2 imports what the files of the data dir held before the database
existed (answers.sqlite, subscriptions.sqlite, audit.jsonl), so an upgrade keeps every answer,
vote and subscription.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    IntegrityError,
    OperationalError,
)

from retrieval.errors import BriefbotError
from retrieval.storage import set_aside

log = logging.getLogger(__name__)

metadata = MetaData()

answers = Table(
    "answers",
    metadata,
    Column("answer_id", String(32), primary_key=True),
    Column("created_at", String(32), nullable=False),
    Column("answer", Text, nullable=False),  # Answer.to_json()
)
votes = Table(
    "votes",
    metadata,
    Column("answer_id", String(32), ForeignKey("answers.answer_id"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("vote", String(8), nullable=False),
    Column("voted_at", String(32), nullable=False),
)
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False, index=True),
    Column("thread_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("time", String(8), nullable=False),
    Column("weekday", Integer),
    Column("topic", Text),
    Column("quiet", Boolean, nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", String(32), nullable=False),
)
chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("timezone", String(64)),
    Column("language", String(16)),  # the bot's words in this chat (/language); None: the user's
)
briefed = Table(
    "briefed",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("thread_id", BigInteger, primary_key=True),
    Column("topic", Text, primary_key=True),
    Column("documents", Text, nullable=False),  # {doc_id: content hash}
    Column("briefed_at", String(32), nullable=False),
)
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry", Text, nullable=False),  # the JSON object `AuditLog.record` wrote
)
conversations = Table(
    "conversations",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("turns", Text, nullable=False),  # [[question, answer], ...], oldest first
    Column("updated_at", Float, nullable=False, index=True),  # time.time()
)
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),  # time.time()
)
briefing_runs = Table(
    "briefing_runs",
    metadata,
    Column("subscription_id", Integer, primary_key=True),
    Column("slot", String(32), primary_key=True),  # the scheduled time, ISO 8601 in UTC
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", Float, nullable=False),
    Column("sent_at", Float),
)
index_pointers = Table(
    "index_pointers",
    metadata,
    Column("index_name", String(64), primary_key=True),
    Column("version", Integer),  # the live version; None before the first publish
    Column("previous", Integer),  # the one a rollback returns to
    Column("owner", String(32)),  # the id its Chroma collections are marked with
)
index_versions = Table(
    "index_versions",
    metadata,
    Column("index_name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("manifest", Text, nullable=False),  # Manifest.to_json(), written once
)
source_texts = Table(
    "source_texts",
    metadata,
    Column("content_hash", String(80), primary_key=True),  # SourceDocument.content_hash
    Column("text", Text, nullable=False),  # the decoded text its offsets count in
)
schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("applied_at", String(32), nullable=False),
)


class DatabaseUnavailableError(BriefbotError):
    """BRIEFBOT_DATABASE_URL names a database that cannot be reached or used."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection, Path], None]


_FIRST_TABLES = (answers, votes, subscriptions, chats, briefed, audit, conversations)


def _first_schema(connection: Connection, data_dir: Path) -> None:
    metadata.create_all(connection, tables=list(_FIRST_TABLES))


def _scheduler_tables(connection: Connection, data_dir: Path) -> None:
    metadata.create_all(connection, tables=[leases, briefing_runs])


def _index_tables(connection: Connection, data_dir: Path) -> None:
    metadata.create_all(connection, tables=[index_pointers, index_versions, source_texts])


def _chat_language(connection: Connection, data_dir: Path) -> None:
    # A database made before this migration has `chats` without the column; a new one got it
    # from migration 1, which creates the table as it is defined now.
    if "language" not in {column["name"] for column in inspect(connection).get_columns("chats")}:
        connection.execute(text("ALTER TABLE chats ADD COLUMN language VARCHAR(16)"))


def _import_data_dir_files(connection: Connection, data_dir: Path) -> None:
    """Rows of the stores that were files before the database; the files are then renamed
    `*.imported` (kept, not deleted)."""
    imported: list[Path] = []
    for name, tables in (
        ("answers.sqlite", (answers, votes)),
        ("subscriptions.sqlite", (subscriptions, chats, briefed)),
    ):
        path = data_dir / name
        if not path.exists():
            continue
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                for table in tables:
                    # Only the columns the old file had: later migrations added others.
                    present = {
                        row[1] for row in source.execute(f"PRAGMA table_info({table.name})")
                    }
                    columns = [column.name for column in table.columns if column.name in present]
                    rows = source.execute(
                        f"SELECT {', '.join(columns)} FROM {table.name}"  # noqa: S608 (ours)
                    ).fetchall()
                    if rows:
                        connection.execute(
                            insert(table), [dict(zip(columns, row, strict=True)) for row in rows]
                        )
            finally:
                source.close()
        except sqlite3.DatabaseError as error:  # a damaged old store: started fresh before too
            log.warning("%s could not be imported (%s); it is left as it was", path, error)
            continue
        imported.append(path)
    journal = data_dir / "audit.jsonl"
    if journal.exists():
        lines = journal.read_text(encoding="utf-8", errors="replace").splitlines()
        entries = [line for line in lines if _is_json_object(line)]
        if entries:
            connection.execute(insert(audit), [{"entry": entry} for entry in entries])
        imported.append(journal)
    if connection.dialect.name == "postgresql":
        # Subscriptions came with their ids: move the id sequence past them.
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('subscriptions', 'id'), "
                "COALESCE((SELECT MAX(id) FROM subscriptions), 0) + 1, false)"
            )
        )
    connection.info["imported_files"] = imported


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


MIGRATIONS: Sequence[Migration] = (
    Migration(1, "answers, votes, subscriptions, audit, conversations", _first_schema),
    Migration(
        2,
        "import the data dir's answers.sqlite, subscriptions.sqlite and audit.jsonl",
        _import_data_dir_files,
    ),
    Migration(3, "leases and briefing runs: one scheduler among replicas", _scheduler_tables),
    Migration(4, "a language per chat", _chat_language),
    Migration(
        5, "index pointers, manifests and source texts: one index for replicas", _index_tables
    ),
)


def _damaged(error: DatabaseError) -> bool:
    """SQLite says the file is no database or a broken one (not: locked, unreachable)."""
    return not isinstance(error, OperationalError) or any(
        sign in str(error.orig) for sign in ("not a database", "malformed")
    )


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'state.sqlite'}"


class Database:
    """One engine for every store; each store call is one short transaction."""

    def __init__(self, url: str, data_dir: Path) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise DatabaseUnavailableError(
                "BRIEFBOT_DATABASE_URL is not a database URL (e.g. postgresql+psycopg://…)"
            ) from None
        self.dialect = parsed.get_backend_name()
        self._where = parsed.render_as_string(hide_password=True)
        on_disk = self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:")
        self._sqlite_file = Path(str(parsed.database)) if on_disk else None
        if self._sqlite_file is not None:
            self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        self._url = parsed
        self._data_dir = data_dir
        self.engine = self._open()

    def _connect(self) -> Engine:
        if self.dialect == "sqlite":
            engine = create_engine(self._url, connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def _wal(connection: sqlite3.Connection, _record: object) -> None:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA foreign_keys=ON")

            return engine
        return create_engine(self._url, pool_pre_ping=True)

    def _open(self) -> Engine:
        engine = self._connect()
        try:
            self._migrate(engine)
        except DatabaseError as error:
            engine.dispose()
            if self._sqlite_file is None or not _damaged(error):
                raise DatabaseUnavailableError(
                    f"the database {self._where} cannot be used: {error.orig}"
                ) from None
            # A damaged SQLite file: kept for a look, and the state started afresh.
            wal = self._sqlite_file.with_name(self._sqlite_file.name + "-wal")
            for path in (self._sqlite_file, wal):
                if path.exists():
                    set_aside(path, str(error.orig))
            self._sqlite_file.with_name(self._sqlite_file.name + "-shm").unlink(missing_ok=True)
            engine = self._connect()
            self._migrate(engine)
        return engine

    def _migrate(self, engine: Engine) -> None:
        with engine.begin() as connection:
            if self.dialect == "postgresql":  # replicas starting together migrate one by one
                connection.execute(text("SELECT pg_advisory_xact_lock(7242015001)"))
            if self.dialect == "sqlite":
                connection.execute(text("PRAGMA quick_check")).fetchall()
            metadata.create_all(connection, tables=[schema_migrations])
            applied = set(connection.execute(select(schema_migrations.c.version)).scalars())
            for migration in MIGRATIONS:
                if migration.version in applied:
                    continue
                migration.apply(connection, self._data_dir)
                connection.execute(
                    insert(schema_migrations).values(
                        version=migration.version,
                        description=migration.description,
                        applied_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    )
                )
                log.info("database %s: applied migration %d", self._where, migration.version)
            imported: list[Path] = connection.info.pop("imported_files", [])
        for path in imported:  # only once the import is committed
            path.rename(path.with_name(path.name + ".imported"))
            log.warning(
                "imported %s into the database; the file is kept as %s.imported", path, path.name
            )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction, committed when the block ends. A database that fails (gone, full,
        broken) raises DatabaseUnavailableError; a violated key stays an IntegrityError, which
        callers use to learn that a row exists."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except IntegrityError:
            raise
        except DBAPIError as error:  # the driver's message, never the SQL and its parameters
            raise DatabaseUnavailableError(
                f"the database {self._where} failed: {error.orig}"
            ) from None

    def ping(self) -> None:
        """DatabaseUnavailableError unless the database answers."""
        with self.transaction() as connection:
            connection.execute(text("SELECT 1"))

    def upsert(
        self, connection: Connection, table: Table, values: dict[str, Any], keys: Sequence[str]
    ) -> None:
        """Insert a row, or update the non-key columns of the row with the same keys."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        statement = dialect.insert(table).values(**values)
        updates = {name: statement.excluded[name] for name in values if name not in keys}
        connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates))

    def close(self) -> None:
        self.engine.dispose()
