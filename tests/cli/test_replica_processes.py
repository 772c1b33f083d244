"""Two `briefbot bot` processes in webhook mode, as two replicas behind one URL would run:
one PostgreSQL database, one `chroma run` server, one sources dir. A /reload through replica A
is answered from by replica B, and both stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bot.webhook import SECRET_HEADER
from tests.conftest import SEED
from tests.fakes.bot_api import DEFAULT_USER_ID, FakeBotApi
from tests.fakes.chroma_server import ChromaServer, free_port
from tests.fakes.postgres import PostgresServer

TOKEN = "4242:fake-token-for-replicas"
SECRET = "a-webhook-secret-of-replicas"
BRIDGE = "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n"


class Replica:
    def __init__(self, port: int, log: Path, process: asyncio.subprocess.Process) -> None:
        self.url = f"http://127.0.0.1:{port}/telegram"
        self.log = log
        self.process = process

    async def deliver(self, update: dict[str, object]) -> None:
        async with httpx.AsyncClient() as client:
            reply = await client.post(self.url, json=update, headers={SECRET_HEADER: SECRET})
        assert reply.status_code == 200, self.log.read_text(errors="replace")


@asynccontextmanager
async def replica(
    name: str, root: Path, environment: dict[str, str], api: FakeBotApi
) -> AsyncIterator[Replica]:
    port = free_port()
    log = root / f"{name}.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads while the bot runs
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "briefbot"),
            "bot",
            env={
                **os.environ,
                **environment,
                "BRIEFBOT_DATA_DIR": str(root / name),
                "BRIEFBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                "BRIEFBOT_WEBHOOK_PORT": str(port),
            },
            stdout=output,
            stderr=output,
        )
    running = Replica(port, log, process)
    try:
        await api.wait_for("setWebhook", lambda params: params["url"] == running.url, timeout=300)
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 120)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()


async def test_a_reload_through_one_bot_process_is_answered_from_by_the_other(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copyfile(SEED, sources / SEED.name)
    (tmp_path / "chroma").mkdir()
    with ChromaServer(tmp_path / "chroma") as chroma:
        async with FakeBotApi(token=TOKEN) as api:
            environment = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "BRIEFBOT_TELEGRAM_BASE_URL": api.base_url,
                "BRIEFBOT_TELEGRAM_FILE_BASE_URL": api.base_file_url,
                "BRIEFBOT_SOURCES_DIR": str(sources),
                "BRIEFBOT_DATABASE_URL": postgres.new_database(),
                "BRIEFBOT_CHROMA_HOST": chroma.host,
                "BRIEFBOT_CHROMA_PORT": str(chroma.port),
                "BRIEFBOT_WEBHOOK_SECRET": SECRET,
                "BRIEFBOT_WEBHOOK_LISTEN": "127.0.0.1",
                "BRIEFBOT_ADMIN_IDS": str(DEFAULT_USER_ID),
            }
            async with replica("a", tmp_path, environment, api) as a:
                async with replica("b", tmp_path, environment, api) as b:
                    (sources / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
                    await a.deliver(api.private_message("/reload"))
                    await api.wait_for(
                        "sendMessage", lambda p: "Reloaded" in p["text"], timeout=300
                    )
                    await b.deliver(
                        api.private_message("How much will the Riverside bridge cost?")
                    )
                    # Only bridge.txt says it: b answers from the version a published.
                    await api.wait_for(
                        "sendMessage", lambda p: "42 million" in p["text"], timeout=120
                    )
                assert b.process.returncode == 0, b.log.read_text(errors="replace")
            assert a.process.returncode == 0, a.log.read_text(errors="replace")
