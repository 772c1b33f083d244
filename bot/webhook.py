"""Webhook mode: our own small tornado server instead of PTB's, for the limits PTB's lacks.

PTB's server reads a request body of up to 100 MB before it looks at the secret and answers
a malformed body with a 500. This one checks the secret header, then Content-Length, before
any of the body is read (403, 411, 413), answers bad JSON with 400, and skips an update PTB
cannot read the way polling does (bot/updates.py), answering 200 so that Telegram does not
send it again. It also serves GET /healthz (alive, with an index) for container health
checks and GET /readyz (index, state database and Chroma all answering) for load balancers.

`serve_webhook` runs the application the way PTB's run_webhook does (initialize, post_init,
start, set the webhook; stop, shutdown, post_shutdown) around this server.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import signal
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlparse

import tornado.web
from telegram import Update
from tornado.httpserver import HTTPServer

from bot.context import BriefApplication, Services
from bot.updates import SkippedUpdates, read_update
from retrieval.errors import BriefbotError
from retrieval.models import Manifest

# Telegram's updates are a few KB (a message's text is at most 4096 characters): 1 MiB is
# generous, and a flood of bodies that size costs the bot little.
MAX_BODY_BYTES = 1024 * 1024
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@tornado.web.stream_request_body  # so prepare() runs before the body is read
class _UpdateHandler(tornado.web.RequestHandler):
    """POST <url_path>: one update from Telegram."""

    # "bot_application": tornado's RequestHandler takes "application" (its own) itself.
    def initialize(
        self, bot_application: BriefApplication, secret: str, skipped: SkippedUpdates
    ) -> None:
        self._application = bot_application
        self._secret = secret
        self._skipped = skipped
        self._body = bytearray()

    def prepare(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        length = self.request.headers.get("Content-Length")
        if length is None:  # Telegram always sends it; without it the size is unknown
            raise tornado.web.HTTPError(HTTPStatus.LENGTH_REQUIRED)
        if not length.isdigit():
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)
        if int(length) > MAX_BODY_BYTES:
            # Answered now; tornado then discards the body as it arrives, never keeping it.
            raise tornado.web.HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    def data_received(self, chunk: bytes) -> None:
        self._body += chunk  # at most Content-Length bytes: tornado reads no more

    async def post(self) -> None:
        try:
            raw = json.loads(self._body)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from None
        if not isinstance(raw, dict):
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST)
        update = read_update(raw, self._application.bot, self._skipped)
        if update is not None:
            await self._application.update_queue.put(update)


class _StatusHandler(tornado.web.RequestHandler):
    """GET /healthz and /readyz: 200 with the index version while the application runs and
    its check passes, else 503 with the reason.

    /healthz (alive, with an index) is the container's health check; /readyz also asks the
    state database and Chroma, so that a load balancer sends updates to other replicas while
    this one cannot reach them."""

    def initialize(self, bot_application: BriefApplication, check: Callable[[], Manifest]) -> None:
        self._application = bot_application
        self._check = check

    async def get(self) -> None:
        if not self._application.running:
            self.set_status(HTTPStatus.SERVICE_UNAVAILABLE)
            self.write({"ok": False, "reason": "the bot is not running"})
            return
        try:
            manifest = await asyncio.to_thread(self._check)
        except BriefbotError as error:
            self.set_status(HTTPStatus.SERVICE_UNAVAILABLE)
            self.write({"ok": False, "reason": str(error)})
            return
        self.write({"ok": True, "index_version": manifest.version})


def _ready(services: Services) -> Manifest:
    manifest = services.knowledge.check_ready()
    services.state.database.ping()
    return manifest


class _WebhookApp(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log, as in PTB: a webhook path often holds a secret, and a flood of
        refused requests would flood the log."""


async def serve_webhook(
    application: BriefApplication, services: Services, stop: asyncio.Event
) -> None:
    """Serve updates posted to BRIEFBOT_WEBHOOK_URL until `stop` is set."""
    settings = services.settings
    if not settings.webhook_url or settings.webhook_secret is None:
        raise ValueError("BRIEFBOT_WEBHOOK_URL and BRIEFBOT_WEBHOOK_SECRET must both be set")
    secret = settings.webhook_secret.get_secret_value()
    url_path = "/" + urlparse(settings.webhook_url).path.lstrip("/")
    health = {"bot_application": application, "check": services.knowledge.manifest}
    ready = {"bot_application": application, "check": functools.partial(_ready, services)}
    updates = {"bot_application": application, "secret": secret, "skipped": SkippedUpdates()}
    server = HTTPServer(
        _WebhookApp(
            [
                (HEALTH_PATH, _StatusHandler, health),
                (READY_PATH, _StatusHandler, ready),
                (f"{url_path}/?", _UpdateHandler, updates),
            ]
        )
    )
    try:
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        # Listening before Telegram is told the URL: its first update finds the server up.
        server.listen(settings.webhook_port, address=settings.webhook_listen)
        await application.bot.set_webhook(
            url=settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        await stop.wait()
    finally:
        server.stop()
        await server.close_all_connections()
        if application.running:
            await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def run_webhook(application: BriefApplication, services: Services) -> None:
    """serve_webhook until SIGINT or SIGTERM, as PTB's run_webhook."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve_webhook(application, services, stop)
