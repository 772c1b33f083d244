"""Run a real PTB Application against the fake Bot API, with the manual lifecycle.

The manual lifecycle runs no post_init/post_shutdown by itself and must stop in a finally
block, or a failed assertion is replaced by "This Application is still running!" (testing
notes P1, P2, P6).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from telegram.ext import Application

from tests.fakes.bot_api import FakeBotApi


@contextlib.asynccontextmanager
async def serving(
    app: Application[Any, Any, Any, Any, Any, Any],
    api: FakeBotApi,
    webhook: dict[str, Any] | None = None,
) -> AsyncIterator[None]:
    """Initialise and start `app`, polling `api` (or serving `webhook`, the keyword arguments
    of Updater.start_webhook), and stop it however the block ends."""
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        if webhook is None:
            await app.updater.start_polling(poll_interval=0)
        else:
            await app.updater.start_webhook(**webhook)
        try:
            if webhook is None:
                await asyncio.wait_for(api.first_get_updates.wait(), 10)
            yield
        finally:
            await app.updater.stop()
            await app.stop()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


@contextlib.asynccontextmanager
async def running_unpolled(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """Initialise and start `app` with no updater (a replica that receives no updates, as one
    behind a webhook that is not called): its job queue and services run."""
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            yield
        finally:
            await app.stop()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
