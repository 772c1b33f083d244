"""The container health check: the bot's readiness marker, and the webhook's /healthz."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot import health
from bot.app import build_application
from bot.context import Services
from config import Settings
from retrieval.composition import open_knowledge_base
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.serving import serving


def test_a_marked_process_is_ready_until_it_clears_the_marker(tmp_path: Path) -> None:
    assert health.polling_ready(tmp_path) == (
        False,
        "no readiness marker: the index is not loaded yet",
    )
    health.mark_ready(tmp_path / "data", 3)
    assert health.polling_ready(tmp_path / "data") == (True, "ready, index v3")
    health.clear_ready(tmp_path / "data")
    assert not health.polling_ready(tmp_path / "data")[0]
    health.clear_ready(tmp_path / "data")  # clearing twice is fine


def test_a_marker_left_by_a_dead_process_does_not_count(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    health.marker_path(tmp_path).write_text(f'{{"pid": {finished.stdout.strip()}}}\n')
    ready, reason = health.polling_ready(tmp_path)
    assert not ready
    assert "is gone" in reason


def test_a_damaged_marker_is_not_ready(tmp_path: Path) -> None:
    health.marker_path(tmp_path).write_text("{half")
    ready, reason = health.polling_ready(tmp_path)
    assert not ready
    assert "unreadable" in reason


@pytest.fixture
def healthz() -> Iterator[Callable[[HTTPStatus], int]]:
    """A loopback HTTP server answering GET /healthz with a chosen status; yields a setter
    that returns the port."""
    status = [HTTPStatus.OK]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            code = status[0] if self.path == health.HEALTH_PATH else HTTPStatus.NOT_FOUND
            body = b'{"ok": true, "index_version": 1}' if code == HTTPStatus.OK else b"{}"
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def answer_with(code: HTTPStatus) -> int:
        status[0] = code
        return int(server.server_address[1])

    try:
        yield answer_with
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_mode_asks_healthz_on_the_listening_port(
    healthz: Callable[[HTTPStatus], int],
) -> None:
    port = healthz(HTTPStatus.OK)
    assert health.webhook_ready("0.0.0.0", port) == (True, '{"ok": true, "index_version": 1}')
    ready, reason = health.webhook_ready("127.0.0.1", healthz(HTTPStatus.SERVICE_UNAVAILABLE))
    assert not ready
    assert "HTTP 503" in reason


def test_the_command_checks_the_mode_the_settings_choose(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, healthz: Callable[[HTTPStatus], int]
) -> None:
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path))
    assert health.main() == 1
    health.mark_ready(tmp_path, 1)
    assert health.main() == 0

    # Webhook mode ignores the marker: only the server's own answer counts.
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_SECRET", "a-webhook-secret-of-16")
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_PORT", str(healthz(HTTPStatus.SERVICE_UNAVAILABLE)))
    assert health.main() == 1
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_PORT", str(healthz(HTTPStatus.OK)))
    assert health.main() == 0


async def test_the_bot_is_ready_after_start_up_and_not_after_shutdown(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    settings = bot_settings()
    health.marker_path(settings.data_dir).parent.mkdir(parents=True, exist_ok=True)
    health.marker_path(settings.data_dir).write_text('{"pid": 1}')  # a stale one
    services = Services.create(settings, open_knowledge_base(settings))
    app = build_application(settings, services)
    async with serving(app, api):
        ready, reason = health.polling_ready(settings.data_dir)
        assert ready, reason
        assert reason == f"ready, index v{services.knowledge.manifest().version}"
    assert health.polling_ready(settings.data_dir) == (
        False,
        "no readiness marker: the index is not loaded yet",
    )
