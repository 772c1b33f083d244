"""Shared fixtures: every test gets its own sources and data dirs and a clean environment."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config import Settings, load_settings
from retrieval.composition import open_knowledge_base
from retrieval.service import KnowledgeBase
from retrieval.state.database import Database, default_url
from tests.fakes.postgres import PostgresServer, running_postgres

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_a4b66e995d028465.txt"
SEED_QUESTIONS = Path(__file__).parent / "data" / "seed_questions.jsonl"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's settings, .env or index."""
    for name in list(os.environ):
        if name.startswith(("BRIEFBOT_", "TELEGRAM_", "OPENAI_", "LANGSMITH_", "LANGCHAIN_")):
            monkeypatch.delenv(name)
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


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A sources dir holding the seed article."""
    directory = tmp_path / "sources"
    directory.mkdir()
    shutil.copyfile(SEED, directory / SEED.name)
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
