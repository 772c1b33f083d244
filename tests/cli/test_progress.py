"""`briefbot ingest` shows its progress on stderr: a bar per stage on a terminal, one log line
when a stage starts and one when it ends otherwise; stdout carries the report alone."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_main import LineReader

BRIEFBOT = str(Path(sys.executable).parent / "briefbot")
STAGES = ("reading", "embedding", "writing")


@pytest.fixture
def env(sources: Path, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BRIEFBOT_SOURCES_DIR": str(sources),
        "BRIEFBOT_DATA_DIR": str(tmp_path / "data"),
    }


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BRIEFBOT, *argv], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_off_a_terminal_each_stage_logs_its_start_and_its_end(env: dict[str, str]) -> None:
    result = run(env, "ingest")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for stage in STAGES:
        started = [line for line in lines if re.search(rf"briefbot\.operator: {stage}: \d+", line)]
        ended = [
            line
            for line in lines
            if re.search(rf"briefbot\.operator: {stage} done: \d+ \w+\(s\) in [\d.]+ s$", line)
        ]
        assert len(started) == 1, result.stderr
        assert len(ended) == 1, result.stderr
        assert " INFO " in started[0]
    assert "reading: 1 file(s)" in result.stderr
    assert "writing done: 1 version(s)" in result.stderr
    order = [next(i for i, line in enumerate(lines) if f" {stage}: " in line) for stage in STAGES]
    assert order == sorted(order)
    # stdout is the report as it always was, and nothing else
    assert re.fullmatch(
        r"Indexed v1: 1 documents, 6 chunks in [\d.]+ s\.\n"
        r"  documents: 1 added, 0 updated, 0 removed\n"
        r"  chunks:    6 added, 0 removed \(\d+ texts embedded, the rest from the cache\)\n",
        result.stdout,
    )
    assert "\r" not in result.stderr  # no bar off a terminal

    again = run(env, "ingest")
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert "reading done: 1 file(s)" in again.stderr
    assert "embedding" not in again.stderr  # nothing changed, nothing embedded


def test_json_output_stays_json_alone_on_stdout(env: dict[str, str]) -> None:
    assert run(env, "ingest").returncode == 0
    result = run(env, "ask", "--json", "Who is Justin Logan?")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["grounded"] is True
    sources = run(env, "sources", "--json")
    assert json.loads(sources.stdout)["version"] == 1
    assert "briefbot.operator" not in result.stderr + sources.stderr


def test_on_a_terminal_each_stage_shows_a_bar(env: dict[str, str]) -> None:
    """stderr a pseudo-terminal (as nobody sized it: 0x0), stdout a pipe; a bar shows done
    of total, elapsed and remaining time and the rate."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [BRIEFBOT, "ingest"], env=env, stdout=subprocess.PIPE, stderr=terminal
        )
    finally:
        os.close(terminal)
    shown = b""
    # poll, not select: in a full test run this process has more than select's 1024 fds open.
    watch = select.poll()
    watch.register(controller, select.POLLIN)
    with process:
        while True:
            if not watch.poll(180_000):
                process.kill()
                raise AssertionError(f"no output on the terminal for 180 s: {shown!r}")
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the child closed the terminal (EIO on Linux)
                break
            if not chunk:
                break
            shown += chunk
        assert process.stdout is not None
        out = process.stdout.read().decode()
    os.close(controller)
    assert process.returncode == 0, shown
    text = shown.decode("utf-8", "replace")
    for stage, unit, total in (("reading", "file", r"1"), ("embedding", "text", r"\d+")):
        assert re.search(rf"\r{stage}: +0%\|[^|]*\| 0/{total} ", text), text
        rate = rf"({unit}/s|s/{unit})"  # tqdm turns a rate below 1 over
        assert re.search(rf"{stage}: 100%\|[^|]*\| ({total})/\1 \[[^\]]*{rate}\]", text), text
    assert re.search(r"writing: 100%\|[^|]*\| 1/1 ", text), text
    assert "briefbot.operator" not in text  # a bar, not log lines
    assert out.startswith("Indexed v1: 1 documents, 6 chunks")


def test_watch_logs_the_progress_of_every_reload(
    env: dict[str, str], sources: Path, tmp_path: Path
) -> None:
    command = [BRIEFBOT, "reload", "--watch", "--interval", "0.2"]
    log = tmp_path / "stderr.txt"
    with (
        log.open("w") as stderr,
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
        ) as process,
    ):
        try:
            assert process.stdout is not None
            lines = LineReader(process.stdout)
            while "Watching" not in (line := lines.next()):
                assert line, "the watcher stopped"
            (sources / "bridge.txt").write_text(
                "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n",
                encoding="utf-8",
            )
            while "Indexed v2" not in (line := lines.next()):
                assert line, "the watcher stopped"
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    err = log.read_text()
    assert process.returncode == 0, err
    assert "reading: 1 file(s)" in err
    assert "reading: 2 file(s)" in err
    assert err.count("writing done: 1 version(s)") == 2
