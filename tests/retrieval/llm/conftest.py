"""Fixtures of the LLM-mode tests: a fake OpenAI server (in a thread, for the synchronous
client) and a knowledge base with the seed ingested that answers through it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.service import KnowledgeBase
from tests.conftest import REPO
from tests.fakes.openai_api import FakeOpenAI

KEY = "sk-fake-test-key-0001"
QUESTION = "How many U.S. troops are stationed in Iraq?"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY).run_in_thread() as server:
        yield server


@pytest.fixture
def llm_settings(
    make_settings: Callable[..., Settings], fake: FakeOpenAI
) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        values: dict[str, Any] = {
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": fake.base_url,
            "prompts_dir": REPO / "prompts",
            # Generous: the fake answers at once, but a loaded CI machine may not. The stall
            # test sets its own short timeout.
            "llm_timeout": 30.0,
            "llm_deadline": 60.0,
            "llm_max_retries": 0,
        }
        return make_settings(**{**values, **overrides})

    return build


@pytest.fixture
def llm_kb(llm_settings: Callable[..., Settings]) -> Iterator[KnowledgeBase]:
    kb = open_knowledge_base(llm_settings())
    kb.ingest()
    yield kb
    kb.close()
