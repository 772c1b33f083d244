"""The start-up check of BRIEFBOT_LLM_MODEL against the server's GET /v1/models."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import pytest

from config import Settings
from retrieval.llm.check import ModelCheckError, check_model
from tests.fakes.openai_api import FakeOpenAI
from tests.retrieval.llm.conftest import KEY


def test_a_served_model_passes_quietly(
    llm_settings: Callable[..., Settings], fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    check_model(llm_settings())
    (call,) = fake.requests_of("models")
    assert call.method == "GET"
    assert call.ok
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_unknown_model_stops_naming_the_setting_and_the_models(
    llm_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(ModelCheckError) as raised:
        check_model(llm_settings(llm_model="llama-9000"))
    message = str(raised.value)
    assert "BRIEFBOT_LLM_MODEL=llama-9000" in message
    assert "gpt-4o-mini, text-embedding-3-small" in message
    assert KEY not in message


def test_a_server_without_a_models_list_is_only_warned_about(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    with FakeOpenAI(api_key=KEY, lists_models=False).run_in_thread() as bare:
        settings = make_settings(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=bare.base_url)
        check_model(settings)  # no refusal
        assert bare.requests_of("models")[0].status == 404
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "does not list its models" in warning.getMessage()
    assert "BRIEFBOT_LLM_MODEL" in warning.getMessage()


def test_a_refused_key_stops_naming_the_variable_not_the_key(
    make_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    settings = make_settings(OPENAI_API_KEY="sk-wrong-key-1234", OPENAI_BASE_URL=fake.base_url)
    with pytest.raises(ModelCheckError, match="OPENAI_API_KEY was refused") as raised:
        check_model(settings)
    assert "sk-wrong-key-1234" not in str(raised.value)


def test_a_server_that_is_down_is_only_warned_about(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1")
    check_model(settings)
    assert "could not ask" in caplog.text
    assert KEY not in caplog.text


def test_offline_there_is_nothing_to_check(
    make_settings: Callable[..., Settings], fake: FakeOpenAI
) -> None:
    check_model(make_settings(OPENAI_BASE_URL=fake.base_url))
    assert fake.calls == []
