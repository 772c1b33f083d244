"""A bounded soak: the production bot against the fake Bot API on loopback, many chats asking
for a few minutes while the Bot API fails now and then (5xx, 502, flood control). Counts the
questions answered and lost, and the bot process's peak RSS.

    python -m bench.soak [--minutes 5] [--chats 50]

Every question must be answered exactly once: an answer is "lost" when its chat never gets a
reply carrying the question's expected answer within the wait, "doubled" when it gets two.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application
from bot.context import Services
from config import load_settings
from retrieval.composition import open_knowledge_base
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.serving import serving

REPO = Path(__file__).resolve().parent.parent
TOKEN = "4242:fake-token-for-the-soak"
QUESTIONS = [
    ("How many U.S. troops are stationed in Iraq?", "2,500"),
    ("Who is Justin Logan?", "Cato"),
    ("Who was killed in the U.S. strike in Baghdad?", "Abu Taqwa"),
]
FAULTS = [(500, 1), (502, 2), (429, 4), (503, 1)]  # status, how many in a row
FAULT_EVERY = 4.0  # seconds between injected faults, on average
REPLY_WAIT = 120.0  # seconds a question may take, faults and flood control included


@dataclass(frozen=True, slots=True)
class SoakResult:
    minutes: float
    chats: int
    asked: int
    answered: int
    lost: int
    doubled: int
    faults: int
    peak_rss_mib: float


async def _soak(minutes: float, chats: int) -> SoakResult:
    data_dir = Path(tempfile.mkdtemp(prefix="briefbot-soak-"))
    generator = random.Random(7)
    asked: list[tuple[int, int, str]] = []  # chat, message id, expected
    faults = 0
    try:
        async with FakeBotApi(token=TOKEN) as api:
            settings = load_settings(
                sources_dir=REPO / "seeds",
                data_dir=data_dir,
                telegram_bot_token=TOKEN,
                telegram_base_url=api.base_url,
                telegram_file_base_url=api.base_file_url,
                # Every chat asks again the moment it is answered, far above the default
                # question limits: the soak measures losses under faults, not the limits.
                user_questions_per_minute=0,
                chat_questions_per_minute=0,
            )
            services = Services.create(settings, open_knowledge_base(settings))
            async with serving(build_application(settings, services), api):
                deadline = time.monotonic() + minutes * 60
                next_fault = time.monotonic() + FAULT_EVERY
                while time.monotonic() < deadline:
                    for chat in range(chats):
                        question, expected = QUESTIONS[generator.randrange(len(QUESTIONS))]
                        update = api.private_message(question, user_id=70_000 + chat)
                        asked.append((70_000 + chat, update["message"]["message_id"], expected))
                    if time.monotonic() >= next_fault:
                        status, times = FAULTS[generator.randrange(len(FAULTS))]
                        api.fail_next("sendMessage", status, retry_after=1, times=times)
                        faults += 1
                        next_fault += generator.expovariate(1 / FAULT_EVERY)
                    await _until_answered(api, asked, REPLY_WAIT)
                await _until_answered(api, asked, REPLY_WAIT)
                answered, doubled = _tally(api, asked)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return SoakResult(
        minutes, chats, len(asked), answered, len(asked) - answered, doubled, faults, peak
    )


def _replies(api: FakeBotApi) -> dict[tuple[int, int], int]:
    """Successful replies per asking message."""
    counts: dict[tuple[int, int], int] = {}
    for call in api.calls_of("sendMessage"):
        reply = call.params.get("reply_parameters") or {}
        if call.ok and "message_id" in reply:
            key = (int(call.params["chat_id"]), int(reply["message_id"]))
            counts[key] = counts.get(key, 0) + 1
    return counts


def _tally(api: FakeBotApi, asked: list[tuple[int, int, str]]) -> tuple[int, int]:
    counts = _replies(api)
    answered = sum(1 for chat, message, _ in asked if counts.get((chat, message)))
    doubled = sum(1 for chat, message, _ in asked if counts.get((chat, message), 0) > 1)
    return answered, doubled


async def _until_answered(api: FakeBotApi, asked: list[tuple[int, int, str]], wait: float) -> None:
    """Wait (bounded) until every question asked so far has a reply."""
    give_up = time.monotonic() + wait
    while time.monotonic() < give_up:
        if _tally(api, asked)[0] == len(asked):
            return
        await asyncio.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--chats", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    result = asyncio.run(_soak(args.minutes, args.chats))
    print(
        f"{result.minutes:g} min, {result.chats} chats: {result.asked} asked, "
        f"{result.answered} answered, {result.lost} lost, {result.doubled} answered twice; "
        f"{result.faults} Bot API faults injected; peak RSS {result.peak_rss_mib:.0f} MiB"
    )


if __name__ == "__main__":
    main()
