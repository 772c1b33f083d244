"""End-to-end bot latency and throughput through the fake Bot API on loopback.

Latency: from an update entering the fake server to the bot's sendMessage arriving there.
Throughput: 100 chats asking at once, until the last answer arrives. The production
application is used as built, AIORateLimiter included (Telegram's 30 messages/s).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application
from bot.context import Services
from config import load_settings
from retrieval.composition import open_knowledge_base
from retrieval.evaluation import load_questions
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.serving import serving

TOKEN = "4242:fake-token-for-benchmarks"


@dataclass(frozen=True, slots=True)
class TelegramResult:
    questions: int
    p50_ms: float
    p95_ms: float
    chats: int
    burst_seconds: float

    @property
    def answers_per_second(self) -> float:
        return self.chats / self.burst_seconds


async def _measure(sources: Path, questions_file: Path, count: int, chats: int) -> TelegramResult:
    questions = [q.question for q in load_questions(questions_file)]
    data_dir = Path(tempfile.mkdtemp(prefix="briefbot-bench-tg-"))
    try:
        async with FakeBotApi(token=TOKEN) as api:
            settings = load_settings(
                sources_dir=sources,
                data_dir=data_dir,
                telegram_bot_token=TOKEN,
                telegram_base_url=api.base_url,
                telegram_file_base_url=api.base_file_url,
            )
            services = Services.create(settings, open_knowledge_base(settings))
            async with serving(build_application(settings, services), api):
                latencies = []
                for index in range(count):
                    sent_at = time.monotonic()
                    api.private_message(questions[index % len(questions)], user_id=10_000 + index)
                    reply = await api.wait_for("sendMessage", timeout=30)
                    latencies.append((reply.time - sent_at) * 1000)
                started = time.monotonic()
                for chat in range(chats):
                    api.private_message(questions[chat % len(questions)], user_id=50_000 + chat)
                replies = [await api.wait_for("sendMessage", timeout=60) for _ in range(chats)]
                burst = max(reply.time for reply in replies) - started
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return TelegramResult(
        count,
        statistics.median(latencies),
        statistics.quantiles(latencies, n=20)[18],
        chats,
        burst,
    )


def measure(
    sources: Path, questions_file: Path, count: int = 300, chats: int = 100
) -> TelegramResult:
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    return asyncio.run(_measure(sources, questions_file, count, chats))
