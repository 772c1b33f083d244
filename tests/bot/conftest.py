"""A real bot Application, polling the fake Bot API on loopback, over real services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import build_application
from bot.context import BriefApplication, Services
from config import Settings
from retrieval.composition import open_knowledge_base
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.serving import serving

TOKEN = "4242:fake-token-for-tests-only"
ADMIN = 1111  # the admin of `admin_bot`


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username="BriefingBot") as fake:
        yield fake


@dataclass
class RunningBot:
    api: FakeBotApi
    app: BriefApplication
    services: Services


@pytest.fixture
def bot_settings(
    make_settings: Callable[..., Settings], api: FakeBotApi
) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        return make_settings(
            telegram_bot_token=TOKEN,
            telegram_base_url=api.base_url,
            telegram_file_base_url=api.base_file_url,
            **overrides,
        )

    return build


@pytest.fixture
async def bot(
    bot_settings: Callable[..., Settings], api: FakeBotApi, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    """The bot polling the fake, with the seed indexed by its own start-up (post_init)."""
    settings = bot_settings()
    services = Services.create(settings, open_knowledge_base(settings))
    app = build_application(settings, services)
    async with serving(app, api):  # post_shutdown closes the services
        yield RunningBot(api, app, services)


@pytest.fixture
async def admin_bot(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> AsyncIterator[RunningBot]:
    """The bot with ADMIN as its one admin, taking uploads of up to 200 kB."""
    settings = bot_settings(admin_ids=(ADMIN,), max_document_bytes=200_000)
    services = Services.create(settings, open_knowledge_base(settings))
    app = build_application(settings, services)
    async with serving(app, api):
        yield RunningBot(api, app, services)


def send_file(api: FakeBotApi, name: str, mime: str, content: bytes, user_id: int = ADMIN) -> None:
    """A user (the admin unless told) sends the bot a document."""
    file_id = f"file-{name}-{user_id}"
    api.add_file(file_id, content)
    api.document_message(file_id, name, mime, len(content), user_id=user_id)
