"""The state database's schema comes from numbered migrations; an upgrade from the files the
data dir held before keeps every answer, vote, subscription and audit entry."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from retrieval.models import Answer
from retrieval.state.answer_log import AnswerLog
from retrieval.state.audit import AuditLog
from retrieval.state.database import (
    MIGRATIONS,
    Database,
    DatabaseUnavailableError,
    default_url,
    schema_migrations,
)
from retrieval.state.subscriptions import SubscriptionStore
from tests.fakes.postgres import PostgresServer

# The schemas of answers.sqlite and subscriptions.sqlite as the last release wrote them.
OLD_ANSWERS = (
    "CREATE TABLE answers (answer_id TEXT PRIMARY KEY, created_at TEXT NOT NULL,"
    " answer TEXT NOT NULL);"
    "CREATE TABLE votes (answer_id TEXT NOT NULL REFERENCES answers(answer_id),"
    " user_id INTEGER NOT NULL, vote TEXT NOT NULL, voted_at TEXT NOT NULL,"
    " PRIMARY KEY (answer_id, user_id));"
)
OLD_SUBSCRIPTIONS = (
    "CREATE TABLE subscriptions (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL,"
    " thread_id INTEGER NOT NULL, kind TEXT NOT NULL, time TEXT NOT NULL, weekday INTEGER,"
    " topic TEXT, quiet INTEGER NOT NULL, created_by INTEGER NOT NULL, created_at TEXT NOT NULL);"
    "CREATE TABLE chats (chat_id INTEGER PRIMARY KEY, timezone TEXT);"
    "CREATE TABLE briefed (chat_id INTEGER NOT NULL, thread_id INTEGER NOT NULL,"
    " topic TEXT NOT NULL, documents TEXT NOT NULL, briefed_at TEXT NOT NULL,"
    " PRIMARY KEY (chat_id, thread_id, topic));"
)
ANSWER = Answer("Who is Justin Logan?", "A Cato scholar [1].", True, "extractive", ())


def old_data_dir(data_dir: Path) -> None:
    """A data dir as the last release left it: two SQLite stores and the audit journal."""
    data_dir.mkdir(parents=True)
    answers = sqlite3.connect(data_dir / "answers.sqlite")
    with answers:
        answers.executescript(OLD_ANSWERS)
        answers.execute(
            "INSERT INTO answers VALUES ('abc123', '2026-11-30T10:00:00+00:00', ?)",
            (json.dumps(ANSWER.to_json()),),
        )
        answers.execute("INSERT INTO votes VALUES ('abc123', 42, 'up', '2026-11-30T10:01:00')")
    answers.close()
    subscriptions = sqlite3.connect(data_dir / "subscriptions.sqlite")
    with subscriptions:
        subscriptions.executescript(OLD_SUBSCRIPTIONS)
        subscriptions.execute(
            "INSERT INTO subscriptions VALUES (7, -100, 0, 'daily', '08:00', NULL, 'Iraq', 1, 5,"
            " '2026-11-30T10:00')"
        )
        subscriptions.execute("INSERT INTO chats VALUES (-100, 'Europe/Berlin')")
        subscriptions.execute(
            "INSERT INTO briefed VALUES (-100, 0, 'iraq', '{\"a.md\": \"h\"}', '2026-11-30T08:00')"
        )
    subscriptions.close()
    entry = {"time": "2026-11-30T09:00:00+00:00", "user_id": 5, "user": "ann"}
    (data_dir / "audit.jsonl").write_text(
        json.dumps({**entry, "action": "reload", "result": "ok"}) + "\n" + "{torn line\n"
    )


def test_an_upgrade_keeps_answers_votes_subscriptions_and_the_audit_log(
    database_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    old_data_dir(data_dir)
    database = Database(database_url, data_dir)
    try:
        answers = AnswerLog(database)
        assert answers.get("abc123") == ANSWER
        (vote,) = answers.export()
        assert vote["vote"] == "up"
        store = SubscriptionStore(database)
        (subscription,) = store.all()
        assert (subscription.id, subscription.topic, subscription.quiet) == (7, "Iraq", True)
        assert store.timezone(-100) == "Europe/Berlin"
        assert store.briefed(-100, 0, "Iraq") == ({"a.md": "h"}, "2026-11-30T08:00")
        assert store.add(-100, 0, "daily", "09:00", None, None, False, 5).id > 7
        assert [e["action"] for e in AuditLog(database).entries()] == ["reload"]
        with database.transaction() as connection:
            versions = connection.execute(select(schema_migrations.c.version)).scalars().all()
        assert sorted(versions) == [m.version for m in MIGRATIONS]
    finally:
        database.close()
    names = sorted(path.name for path in data_dir.iterdir())
    for old in ("answers.sqlite", "subscriptions.sqlite", "audit.jsonl"):
        assert old not in names
        assert f"{old}.imported" in names  # kept, not deleted
    reopened = Database(database_url, data_dir)  # nothing is imported twice
    try:
        assert len(AnswerLog(reopened).export()) == 1
        assert len(SubscriptionStore(reopened).all()) == 2
    finally:
        reopened.close()


def test_replicas_starting_together_apply_each_migration_once(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.new_database()
    opened: list[Database] = []
    failures: list[BaseException] = []

    def start(n: int) -> None:
        try:
            opened.append(Database(url, tmp_path / f"replica{n}"))
        except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
            failures.append(error)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        with opened[0].transaction() as connection:
            versions = connection.execute(select(schema_migrations.c.version)).scalars().all()
        assert sorted(versions) == [m.version for m in MIGRATIONS]
    finally:
        for database in opened:
            database.close()


def test_a_damaged_sqlite_state_file_is_set_aside_and_started_fresh(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "state.sqlite").write_bytes(b"this is not SQLite" * 50)
    database = Database(default_url(data_dir), data_dir)
    try:
        answers = AnswerLog(database)
        assert answers.get(answers.record(ANSWER)) == ANSWER
    finally:
        database.close()
    assert len(list(data_dir.glob("state.sqlite.corrupt-*"))) == 1  # kept for a look


def test_an_unreachable_server_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://bot:s3cret-pw@127.0.0.1:9/state"  # port 9: nothing listens
    with pytest.raises(DatabaseUnavailableError) as raised:
        Database(url, tmp_path)
    message = str(raised.value)
    assert "127.0.0.1" in message
    assert "s3cret-pw" not in message


def test_a_url_that_is_no_database_url_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailableError, match="BRIEFBOT_DATABASE_URL"):
        Database("not a url", tmp_path)


def test_a_database_from_before_chat_languages_gets_the_column_and_keeps_its_chats(
    database_url: str, tmp_path: Path
) -> None:
    first = Database(database_url, tmp_path)
    SubscriptionStore(first).set_timezone(-100, "Europe/Berlin")
    with first.transaction() as connection:  # back to the schema migration 3 left
        connection.execute(text("ALTER TABLE chats DROP COLUMN language"))
        connection.execute(schema_migrations.delete().where(schema_migrations.c.version == 4))
    first.close()
    upgraded = Database(database_url, tmp_path)
    try:
        store = SubscriptionStore(upgraded)
        assert store.language(-100) is None
        store.set_language(-100, "de")
        assert (store.timezone(-100), store.language(-100)) == ("Europe/Berlin", "de")
        store.set_timezone(-100, "UTC")  # one setting does not reset the other
        assert store.language(-100) == "de"
    finally:
        upgraded.close()
