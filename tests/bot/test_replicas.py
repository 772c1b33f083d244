"""A webhook replica stopping (SIGTERM sets the same event) finishes the answer it is writing,
and two replicas on one database share the conversation a follow-up needs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.app import build_application
from bot.context import Services
from bot.webhook import SECRET_HEADER, serve_webhook
from config import Settings
from retrieval.composition import open_knowledge_base
from tests.conftest import REPO
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.chroma_server import free_port
from tests.fakes.model_replies import cites
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.fakes.postgres import PostgresServer

KEY = "sk-fake-test-key-0014"
SECRET = "a-webhook-secret-of-replicas"
QUESTION = "How many U.S. troops are stationed in Iraq?"
WRITTEN = "About 2,500 U.S. troops are stationed in Iraq."


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY).run_in_thread() as server:
        yield server


@pytest.fixture
def replica_settings(
    bot_settings: Callable[..., Settings], openai_fake: FakeOpenAI
) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        port = free_port()
        return bot_settings(
            OPENAI_API_KEY=KEY,
            OPENAI_BASE_URL=openai_fake.base_url,
            prompts_dir=REPO / "prompts",
            llm_timeout=30.0,
            llm_max_retries=0,
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            webhook_secret=SECRET,
            webhook_listen="127.0.0.1",
            webhook_port=port,
            **overrides,
        )

    return build


async def deliver(settings: Settings, update: dict[str, object]) -> None:
    async with httpx.AsyncClient() as client:
        reply = await client.post(
            str(settings.webhook_url), json=update, headers={SECRET_HEADER: SECRET}
        )
    assert reply.status_code == 200


async def test_a_stopping_replica_finishes_the_answer_it_is_writing(
    replica_settings: Callable[..., Settings], api: FakeBotApi, openai_fake: FakeOpenAI
) -> None:
    openai_fake.responder = lambda body: Reply.stall(2.0, cites("2,500", WRITTEN)(body))
    settings = replica_settings()
    services = Services.create(settings, open_knowledge_base(settings))
    stop = asyncio.Event()
    serving = asyncio.create_task(
        serve_webhook(build_application(settings, services), services, stop)
    )
    await api.wait_for("setWebhook")
    await deliver(settings, api.private_message(QUESTION))
    await openai_fake.wait_for("chat/completions")  # the model is writing: now stop
    stop.set()
    await serving
    answers = [call.params["text"] for call in api.calls_of("sendMessage")]
    assert any("2,500 U.S. troops are stationed in Iraq. [1]" in text for text in answers)


async def test_a_follow_up_on_replica_b_reads_the_question_replica_a_answered(
    replica_settings: Callable[..., Settings],
    api: FakeBotApi,
    openai_fake: FakeOpenAI,
    postgres: PostgresServer,
) -> None:
    url = postgres.new_database()
    # One data dir, as compose's shared volume: in one test process the replicas then share
    # embedded Chroma, which stands in for the Chroma server here.
    a, b = replica_settings(database_url=url), replica_settings(database_url=url)
    replicas = []
    stop = asyncio.Event()
    for settings in (a, b):
        services = Services.create(settings, open_knowledge_base(settings))
        replicas.append(
            asyncio.create_task(
                serve_webhook(build_application(settings, services), services, stop)
            )
        )
        await api.wait_for("setWebhook")
    try:
        openai_fake.responder = cites("2,500", WRITTEN)
        await deliver(a, api.private_message(QUESTION))
        await api.wait_for("sendMessage", lambda params: "2,500" in params["text"])
        await deliver(b, api.private_message("And how long have they been there?"))
        # b sees a's turn: its request to the model carries the first question.
        follow_up = await openai_fake.wait_for(
            "chat/completions", lambda body: "And how long" in str(body["messages"])
        )
        assert QUESTION in str(follow_up.body["messages"])
    finally:
        stop.set()
        await asyncio.gather(*replicas)
