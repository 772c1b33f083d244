"""Webhook mode over real HTTP on loopback: the secret and the size are checked before the body
is read, bad bodies get 400, good updates are answered, /healthz reports the bot's health."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from bot.app import build_application
from bot.context import Services
from bot.webhook import MAX_BODY_BYTES, SECRET_HEADER, serve_webhook
from config import Settings
from retrieval.composition import open_knowledge_base
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.postgres import PostgresServer

SECRET = "webhook-secret-for-tests_0123"
QUESTION = "Who is Justin Logan?"


@dataclass
class Webhook:
    api: FakeBotApi
    url: str
    port: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def webhook(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> AsyncIterator[Webhook]:
    """The bot in webhook mode, as run_bot serves it, until the test ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    settings = bot_settings(
        webhook_url=url, webhook_secret=SECRET, webhook_listen="127.0.0.1", webhook_port=port
    )
    services = Services.create(settings, open_knowledge_base(settings))
    stop = asyncio.Event()
    serving = asyncio.create_task(
        serve_webhook(build_application(settings, services), services, stop)
    )
    try:
        await api.wait_for("setWebhook")  # sent once the server listens
        yield Webhook(api, url, port)
    finally:
        stop.set()
        await serving


def message_update(api: FakeBotApi) -> dict[str, Any]:
    """A private question, known to the fake as Telegram would know it (replies need that);
    webhook mode never fetches it from the fake's queue."""
    return api.private_message(QUESTION)


async def test_updates_with_the_secret_are_answered_and_others_refused(
    webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    assert webhook.api.webhook_url == webhook.url
    assert webhook.api.webhook_secret_token == SECRET
    secret = {SECRET_HEADER: SECRET}
    api = webhook.api
    async with httpx.AsyncClient() as client:
        missing = await client.post(webhook.url, json=message_update(api))
        wrong = await client.post(
            webhook.url, json=message_update(api), headers={SECRET_HEADER: SECRET[:-1] + "x"}
        )
        not_json = await client.post(
            webhook.url, content=b'{"update_id": 3, "message": ', headers=secret
        )
        not_an_object = await client.post(webhook.url, json=[message_update(api)], headers=secret)
        too_deep = await client.post(webhook.url, content=b"[" * 100_000, headers=secret)
        unreadable = await client.post(
            webhook.url,
            json={"update_id": 50, "message": {"message_id": 5, "date": 0, "chat": {"id": 1}}},
            headers=secret,
        )
        good = await client.post(webhook.url, json=message_update(api), headers=secret)
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert (not_json.status_code, not_an_object.status_code, too_deep.status_code) == (400,) * 3
    assert unreadable.status_code == 200  # skipped: Telegram must not send it again
    assert good.status_code == 200
    answer = await api.wait_for("sendMessage")
    assert answer.ok
    assert "Cato Institute" in answer.params["text"]
    assert len(api.calls_of("sendMessage")) == 1  # the refused ones did nothing
    skipped = [r.getMessage() for r in caplog.records if r.name == "bot.updates"]
    assert len(skipped) == 1
    assert "Skipped a message update (id 50)" in skipped[0]


async def test_an_oversized_body_is_refused_before_it_is_read(webhook: Webhook) -> None:
    # Headers announcing 100 MB, then only the first 64 KB: the answer cannot wait for the rest.
    reader, writer = await asyncio.open_connection("127.0.0.1", webhook.port)
    writer.write(
        (
            "POST /telegram HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{SECRET_HEADER}: {SECRET}\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n"
        ).encode()
        + b" " * 65536
    )
    await writer.drain()
    async with asyncio.timeout(10):
        status = await reader.readline()
    writer.close()
    assert status.startswith(b"HTTP/1.1 413 ")
    async with httpx.AsyncClient() as client:
        too_large = await client.post(
            webhook.url, content=b" " * (MAX_BODY_BYTES + 1), headers={SECRET_HEADER: SECRET}
        )
        largest = await client.post(
            webhook.url,
            content=httpx_json(message_update(webhook.api)).ljust(MAX_BODY_BYTES),  # spaces: JSON
            headers={SECRET_HEADER: SECRET},
        )
    assert too_large.status_code == 413
    assert largest.status_code == 200
    answer = await webhook.api.wait_for("sendMessage")
    assert answer.ok
    assert "Cato Institute" in answer.params["text"]


def httpx_json(value: object) -> bytes:
    return httpx.Request("POST", "http://x", json=value).content


async def test_healthz_reports_a_running_bot_with_its_index(webhook: Webhook) -> None:
    async with httpx.AsyncClient() as client:
        health = await client.get(f"http://127.0.0.1:{webhook.port}/healthz")
    assert health.status_code == 200
    assert health.json() == {"ok": True, "index_version": 1}


async def test_stopping_ends_the_server_and_the_application(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    port = free_port()
    settings = bot_settings(
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    services = Services.create(settings, open_knowledge_base(settings))
    application = build_application(settings, services)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_webhook(application, services, stop))
    await api.wait_for("setWebhook")
    stop.set()
    await serving
    assert not application.running
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/healthz")


async def test_readyz_says_when_the_state_database_is_gone(
    bot_settings: Callable[..., Settings], api: FakeBotApi, postgres: PostgresServer
) -> None:
    """A load balancer stops sending a replica updates while its database does not answer;
    /healthz (is it alive?) stays 200 meanwhile."""
    port = free_port()
    url = postgres.new_database()
    settings = bot_settings(
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        database_url=url,
    )
    services = Services.create(settings, open_knowledge_base(settings))
    application = build_application(settings, services)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_webhook(application, services, stop))
    try:
        await api.wait_for("setWebhook")
        async with httpx.AsyncClient() as client:
            ready = await client.get(f"http://127.0.0.1:{port}/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"ok": True, "index_version": 1}
            name = url.rsplit("/", 1)[1]
            with psycopg.connect(postgres.url(driver="postgresql"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            gone = await client.get(f"http://127.0.0.1:{port}/readyz")
            alive = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert gone.status_code == 503
        assert "database" in gone.json()["reason"]
        assert alive.status_code == 200
    finally:
        stop.set()
        await serving
