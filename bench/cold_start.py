"""Cold start: process start to first answer with an existing index, for `briefbot ask`, the
console (`briefbot chat`) and the bot (`briefbot bot`), each as fresh processes.

The seed corpus is indexed once (the default embedder) in a scratch data dir; each command then
runs `runs` times after one unmeasured run (a cold file cache is another benchmark) and the
median is reported:

* `ask`: wall time from spawning `briefbot ask "<question>"` to its exit;
* `chat`: from spawning `briefbot chat`, the question already waiting on its stdin, to the
  answer's first bytes on its stdout;
* `bot`: from spawning `briefbot bot` (long polling, pointed at the fake Bot API running in this
  process) to the fake receiving the answer to an update queued before the spawn; the fake's
  recorded calls split it at the bot's first request (getMe) and its first getUpdates.

Where the time goes: one more fresh process, under `python -X importtime`, runs the steps `ask`
takes in order and times each (imports, opening the knowledge base, bringing the index up to
date, the first and a second answer), then imports what only the bot needs; import time is
summed by top-level package (self times, so the packages add up).

`python -m bench.cold_start [--runs N]` prints Markdown; `measure()` returns the numbers and
`markdown()` renders them, for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bench import goals
from bench.machine import machine
from bench.sets import REPO
from bench.startup import BRIEFBOT, seed_indexed
from tests.fakes.bot_api import FakeBotApi

QUESTION = "How many U.S. troops are stationed in Iraq?"
EXPECTED = "2,500"  # in every answer to QUESTION from the seed
TOKEN = "4242:fake-token-for-benchmarks"
T = TypeVar("T")
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \| +(\S+)$")

# Run in a fresh interpreter: the steps of `briefbot ask`, timed one by one.
_STEPS = f"""
import json, time
started = time.perf_counter()
import cli.main
from config import load_settings
from retrieval.composition import open_knowledge_base
steps = {{"imports (cli.main, retrieval.composition)": time.perf_counter() - started}}

def step(name, work):
    began = time.perf_counter()
    work()
    steps[name] = time.perf_counter() - began

box = {{}}
step("open the knowledge base", lambda: box.update(kb=open_knowledge_base(load_settings())))
step("bring the index up to date", lambda: box["kb"].ensure_index())
step("first answer", lambda: box["kb"].ask({QUESTION!r}))
step("second answer", lambda: box["kb"].ask({QUESTION!r}))
step("imports only the bot needs (bot.app, bot.context)", lambda: __import__("bot.app")
     and __import__("bot.context"))
step("close the knowledge base", lambda: box["kb"].close())
print("STEPS " + json.dumps(steps), flush=True)
"""


@dataclass(frozen=True, slots=True)
class CommandStart:
    command: str
    median_seconds: float
    slowest_seconds: float
    runs: int


@dataclass(frozen=True, slots=True)
class ColdStart:
    commands: list[CommandStart]
    bot_first_request_seconds: float  # median, spawn -> getMe
    bot_first_poll_seconds: float  # median, spawn -> first getUpdates
    interpreter_seconds: float  # median of `python -c pass`
    steps: dict[str, float]  # the `ask` steps in one process, seconds
    imports: list[tuple[str, float]]  # heaviest top-level packages, seconds (self times)
    import_total_seconds: float
    ended: str  # UTC, when the measurement ended
    load_average: float  # 1-minute, then: what else the machine was running


def import_seconds_by_package(importtime_stderr: str) -> dict[str, float]:
    """Seconds of `python -X importtime` output per top-level package, from self times: every
    module's own time goes to its package (`chromadb.api` to `chromadb`), so they add up."""
    totals: dict[str, float] = {}
    for line in importtime_stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            package = match.group(2).split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(match.group(1)) / 1e6
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def _answered(text: str) -> None:
    if EXPECTED not in text:
        raise RuntimeError(f"no {EXPECTED!r} in the answer: {text[:300]!r}")


def _ask(env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(BRIEFBOT), "ask", QUESTION],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    _answered(done.stdout)
    return elapsed


def _chat(env: dict[str, str], cwd: Path) -> float:
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(BRIEFBOT), "chat"],
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(f"{QUESTION}\n".encode())
        process.stdin.flush()
        first = os.read(process.stdout.fileno(), 65536)  # the answer is printed in one write
        elapsed = time.perf_counter() - started
        process.stdin.close()  # end of input: the console quits
        rest = process.stdout.read()
        if process.wait(timeout=120) != 0:
            log.seek(0)
            raise RuntimeError(f"briefbot chat failed: {log.read().decode(errors='replace')}")
    _answered((first + rest).decode())
    return elapsed


async def _bot_once(env: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """(spawn -> answer, spawn -> getMe, spawn -> first getUpdates), in seconds."""
    async with FakeBotApi(token=TOKEN) as api:
        api.private_message(QUESTION)  # waiting before the bot starts
        environment = {
            **env,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "BRIEFBOT_TELEGRAM_BASE_URL": api.base_url,
            "BRIEFBOT_TELEGRAM_FILE_BASE_URL": api.base_file_url,
        }
        with tempfile.TemporaryFile() as log:  # a file, not a pipe nobody reads
            spawned = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                str(BRIEFBOT), "bot", env=environment, cwd=cwd, stdout=log, stderr=log
            )
            try:
                reply = await api.wait_for(
                    "sendMessage", lambda params: "reply_markup" in params, timeout=300
                )
            finally:
                process.send_signal(signal.SIGTERM)
                status = await asyncio.wait_for(process.wait(), 120)
            if status != 0:
                log.seek(0)
                raise RuntimeError(f"briefbot bot exited {status}: {log.read().decode()}")
        _answered(reply.params["text"])
        first_request = api.calls_of("getMe")[0].time
        first_poll = api.calls_of("getUpdates")[0].time
    return reply.time - spawned, first_request - spawned, first_poll - spawned


def _interpreter(env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, cwd=cwd, check=True)
    return time.perf_counter() - started


def _steps(env: dict[str, str], cwd: Path) -> tuple[dict[str, float], dict[str, float]]:
    with tempfile.TemporaryFile() as log:  # importtime writes a lot: a file, not a pipe
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-c", _STEPS],
            env={**env, "PYTHONPATH": str(REPO)},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert process.stdout is not None
        line = next(line for line in process.stdout if line.startswith("STEPS "))
        printed = time.perf_counter()
        if process.wait(timeout=120) != 0:
            raise RuntimeError("the steps of `briefbot ask` failed")
        steps = json.loads(line.removeprefix("STEPS "))
        # What `ask` still waits for after its answer: the extension modules' teardown.
        steps["interpreter exit"] = time.perf_counter() - printed
        log.seek(0)
        return steps, import_seconds_by_package(log.read().decode())


def _repeat(once: Callable[[], T], runs: int) -> list[T]:
    once()  # unmeasured: the file cache warm, as in every measured run
    return [once() for _ in range(runs)]


def _summary(command: str, seconds: list[float]) -> CommandStart:
    return CommandStart(command, statistics.median(seconds), max(seconds), len(seconds))


def measure(runs: int = 5, top_imports: int = 8) -> ColdStart:
    with seed_indexed("briefbot-cold-") as (work, env):
        asks = _repeat(lambda: _ask(env, work), runs)
        chats = _repeat(lambda: _chat(env, work), runs)
        bots = _repeat(lambda: asyncio.run(_bot_once(env, work)), runs)
        interpreter = _repeat(lambda: _interpreter(env, work), runs)
        steps, imports = _steps(env, work)
    return ColdStart(
        [
            _summary("ask", asks),
            _summary("chat", chats),
            _summary("bot", [answered for answered, _, _ in bots]),
        ],
        statistics.median(first_request for _, first_request, _ in bots),
        statistics.median(first_poll for _, _, first_poll in bots),
        statistics.median(interpreter),
        steps,
        list(imports.items())[:top_imports],
        sum(imports.values()),
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        os.getloadavg()[0],
    )


def markdown(result: ColdStart) -> str:
    lines = [
        f"| command | median s | slowest s | runs | goal ≤ {goals.COLD_START_S:g} s |",
        "|---|---:|---:|---:|---|",
        *(
            f"| `briefbot {c.command}` | {c.median_seconds:.2f} | {c.slowest_seconds:.2f} "
            f"| {c.runs} | {goals.met(c.median_seconds <= goals.COLD_START_S)} |"
            for c in result.commands
        ),
        "",
        f"The bot's first Bot API request (getMe) came {result.bot_first_request_seconds:.2f} s "
        f"after the spawn and its first getUpdates {result.bot_first_poll_seconds:.2f} s "
        f"(medians). The interpreter alone (`python -c pass`): "
        f"{result.interpreter_seconds:.2f} s.",
        "",
        "Where the time goes, the steps of `ask` in one fresh process under "
        "`python -X importtime` (which slows imports a little):",
        "",
        "| step | s |",
        "|---|---:|",
        *(f"| {name} | {seconds:.2f} |" for name, seconds in result.steps.items()),
        "",
        f"Imports, {result.import_total_seconds:.2f} s in all; the heaviest top-level packages "
        "(self times summed): "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.imports)
        + ".",
        "",
        f"Measured {result.ended}; load average {result.load_average:.1f} when it ended.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command")
    args = parser.parse_args()

    print(markdown(measure(args.runs)))
    print(f"\nMachine: {machine()}.")


if __name__ == "__main__":
    main()
