"""The CLI run in-process writes the LangSmith tracing switches into the environment (as it
must, before LangChain reads them); registered here, they are undone after each test."""

from __future__ import annotations

import os

import pytest

from cli.main import TRACING_VARIABLES


@pytest.fixture(autouse=True)
def restore_tracing_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TRACING_VARIABLES:
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:  # set and deleted at once: monkeypatch then deletes it again at teardown
            monkeypatch.setenv(name, "")
            monkeypatch.delenv(name)
