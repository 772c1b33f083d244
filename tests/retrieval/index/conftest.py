"""The index tests' Chroma: embedded by default; a test marked `both_backends` runs a second
time against one real `chroma run` server shared by the session, each run under its own
index name, as separate deployments sharing a server would."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from config import Settings
from tests.fakes.chroma_server import ChromaServer


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with ChromaServer(tmp_path_factory.mktemp("chroma-server")) as server:
        yield server


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """ "embedded", or "server" when a test is parametrized with both_backends."""
    return str(getattr(request, "param", "embedded"))


@pytest.fixture
def make_settings(
    make_settings: Callable[..., Settings], backend: str, request: pytest.FixtureRequest
) -> Callable[..., Settings]:
    if backend == "embedded":
        return make_settings
    server: ChromaServer = request.getfixturevalue("chroma_server")
    index_name = f"t{uuid.uuid4().hex[:12]}"  # this test's alone on the shared server

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "chroma_host": server.host,
            "chroma_port": server.port,
            "index_name": index_name,
        }
        return make_settings(**(values | overrides))

    return build
