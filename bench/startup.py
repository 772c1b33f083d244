"""CLI start-up time: `briefbot --help` and the commands that need no index, each run as a
fresh process (wall time, the median of several runs), and the import time of `cli.main`.

`python -m bench.startup [--runs N]` prints a Markdown table; `measure()` returns the numbers
for a report such as docs/benchmarks.md. Telegram, Chroma, LangChain and the embedders take
seconds to import: these commands load none of them (tests/cli/test_startup.py checks that),
so their time is the interpreter, the settings and the command itself.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.sets import REPO
from config import load_settings
from retrieval.composition import open_live_indexes

BRIEFBOT = Path(sys.executable).parent / "briefbot"
COMMANDS = (
    ("--help",),
    ("config",),
    ("config", "--check"),
    ("feedback", "--json"),
    ("sources", "--json"),  # on an existing index
)
_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| cli\.main$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class StartupResult:
    command: str
    median_seconds: float
    slowest_seconds: float
    runs: int


@dataclass(frozen=True, slots=True)
class Startup:
    commands: list[StartupResult]
    import_seconds: float  # `import cli.main`, from python -X importtime (cumulative)


def _environment(work: Path) -> dict[str, str]:
    """This process's environment without the developer's briefbot settings."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BRIEFBOT_", "TELEGRAM_", "OPENAI_"))
    }
    return {
        **clean,
        "BRIEFBOT_SOURCES_DIR": str(work / "sources"),
        "BRIEFBOT_DATA_DIR": str(work / "data"),
    }


@contextmanager
def seed_indexed(prefix: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A scratch dir with a copy of the seed indexed in it, and the environment a briefbot
    process run there needs (_environment); removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        work = Path(scratch)
        shutil.copytree(REPO / "seeds", work / "sources")
        indexes = open_live_indexes(
            load_settings(sources_dir=work / "sources", data_dir=work / "data")
        )
        try:
            indexes.ingest()
        finally:
            indexes.close()
        yield work, _environment(work)


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=True, timeout=120)
    return time.perf_counter() - started


def measure(runs: int = 5) -> Startup:
    """Each command `runs` times, after one unmeasured run (a cold file cache is another
    benchmark), in a scratch dir with the seed indexed."""
    with seed_indexed("briefbot-startup-") as (work, env):
        results = []
        for command in COMMANDS:
            argv = [str(BRIEFBOT), *command]
            _run(argv, env, work)
            times = [_run(argv, env, work) for _ in range(runs)]
            results.append(
                StartupResult(" ".join(command), statistics.median(times), max(times), runs)
            )
        imports = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import cli.main"],
            env={**env, "PYTHONPATH": str(REPO)},
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    match = _IMPORT_LINE.search(imports.stderr)
    if match is None:
        raise RuntimeError("python -X importtime printed no line for cli.main")
    return Startup(results, int(match.group(1)) / 1e6)


def markdown(startup: Startup) -> str:
    lines = [
        "| command | median | slowest | runs |",
        "|---|---|---|---|",
        *(
            f"| `briefbot {result.command}` | {result.median_seconds:.2f} s | "
            f"{result.slowest_seconds:.2f} s | {result.runs} |"
            for result in startup.commands
        ),
        "",
        f"`import cli.main`: {startup.import_seconds:.2f} s (python -X importtime, cumulative).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command")
    print(markdown(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
