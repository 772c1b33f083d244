"""What the CLI does before any work: the modules it loads, LangSmith tracing kept off, and a
sources dir that cannot be answered from stopping the start."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import main
from config import load_settings
from retrieval.composition import open_live_indexes
from tests.conftest import REPO, SEED

# What takes seconds to import; a command that needs no index must load none of it.
HEAVY = ("telegram", "chromadb", "langchain_core", "langchain_openai", "openai", "bot")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sources: Path, tmp_path: Path) -> dict[str, str]:
    values = {"BRIEFBOT_SOURCES_DIR": str(sources), "BRIEFBOT_DATA_DIR": str(tmp_path / "data")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def indexed(env: dict[str, str]) -> None:
    """The seed indexed, as `briefbot ingest` leaves it."""
    indexes = open_live_indexes(load_settings())
    indexes.ingest()
    indexes.close()


def python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter (this one has imported everything already) running `code`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


IMPORTS_AFTER = """
import contextlib, io, json, sys
from cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        status = main(sys.argv[1:])
    except SystemExit as stop:
        status = stop.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(HEAVY)))
print(json.dumps({"status": status, "heavy": heavy}))
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["config"], ["config", "--check"], ["feedback", "--json"], ["sources"]]
)
def test_commands_that_need_no_index_load_no_heavy_module(
    env: dict[str, str], indexed: None, tmp_path: Path, argv: list[str]
) -> None:
    code = f"HEAVY = {json.dumps(json.dumps(HEAVY))}\n" + IMPORTS_AFTER.replace(
        "sys.argv[1:]", repr(argv)
    )
    result = python(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {"status": 0, "heavy": []}


def test_the_import_check_sees_heavy_modules(env: dict[str, str], tmp_path: Path) -> None:
    """The check above is no empty promise: building an index does load Chroma."""
    code = f"HEAVY = {json.dumps(json.dumps(HEAVY))}\n" + IMPORTS_AFTER.replace(
        "sys.argv[1:]", repr(["sources"])
    )
    result = python(code, env, tmp_path)  # no index yet: it is built, with Chroma
    assert result.returncode == 0, result.stderr
    assert "chromadb" in json.loads(result.stdout)["heavy"]


LLM_CLIENT = ("langchain_core", "langchain_openai", "openai")


@pytest.mark.parametrize("llm", [False, True])
def test_an_offline_answer_loads_no_llm_client(
    env: dict[str, str], indexed: None, tmp_path: Path, llm: bool
) -> None:
    """openai and LangChain take seconds to import: an offline `ask` (the default) must not
    pay for them; with a key configured it does load them, so the check can fail."""
    # With a key, a model nobody serves: the answer falls back to the extractive one at once.
    settings = (
        {
            "OPENAI_API_KEY": "sk-fake-test-key-0001",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "BRIEFBOT_LLM_DEADLINE": "1",
        }
        if llm
        else {}
    )
    argv = ["ask", "--json", "How many U.S. troops are stationed in Iraq?"]
    code = f"HEAVY = {json.dumps(json.dumps(LLM_CLIENT))}\n" + IMPORTS_AFTER.replace(
        "sys.argv[1:]", repr(argv)
    )
    result = python(code, {**env, **settings}, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["heavy"] == (sorted(LLM_CLIENT) if llm else [])


def test_sources_on_an_existing_index_lists_what_the_store_serves(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Read straight from the index files, it must agree with the store, rollback included."""
    indexes = open_live_indexes(load_settings())
    try:
        indexes.ingest()
        (Path(env["BRIEFBOT_SOURCES_DIR"]) / "bridge.txt").write_text(
            "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n", "utf-8"
        )
        indexes.ingest()
        status, out, _ = run_cli(capsys, "sources", "--json")
        assert status == 0
        assert json.loads(out) == json.loads(indexes.current().manifest.to_json())
        assert json.loads(out)["version"] == 2
        indexes.rollback()
        status, out, _ = run_cli(capsys, "sources", "--json")
        assert json.loads(out) == json.loads(indexes.current().manifest.to_json())
        assert json.loads(out)["version"] == 1
    finally:
        indexes.close()


def test_sources_with_a_damaged_pointer_is_answered_by_the_store(
    env: dict[str, str], indexed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    pointer = Path(env["BRIEFBOT_DATA_DIR"]) / "index" / "current.json"
    pointer.write_text("{not json", encoding="utf-8")
    status, out, _ = run_cli(capsys, "sources", "--json")
    assert status == 0
    assert json.loads(out)["documents"][0]["doc_id"] == SEED.name


@pytest.mark.parametrize("command", [["ask", "Who is Justin Logan?"], ["brief"], ["chat"]])
def test_a_sources_dir_gone_after_indexing_stops_the_start(
    env: dict[str, str],
    indexed: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: list[str],
) -> None:
    """It used to start and decline every question (no quote can be checked against a file
    that is not there) with exit 0."""
    wrong = tmp_path / "typo"
    monkeypatch.setenv("BRIEFBOT_SOURCES_DIR", str(wrong))
    status, out, err = run_cli(capsys, *command)
    assert (status, out) == (2, "")
    assert f"BRIEFBOT_SOURCES_DIR {wrong} does not exist" in err
    assert "index v1 was built from 1 documents there" in err
    wrong.mkdir()
    status, out, err = run_cli(capsys, *command)
    assert (status, out) == (2, "")
    assert f"BRIEFBOT_SOURCES_DIR {wrong} has no .txt or .md files" in err


def test_an_empty_sources_dir_without_an_index_says_so(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], sources: Path
) -> None:
    shutil.rmtree(sources)
    sources.mkdir()
    status, _, err = run_cli(capsys, "ask", "anything")
    assert status == 2
    assert f"BRIEFBOT_SOURCES_DIR {sources} has no .txt or .md files" in err
    assert "nothing to answer from" in err


class FakeLangSmith:
    """Records every request a LangSmith client makes (it would carry the traced text)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        received = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PATCH = _answer

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Quiet: the test reads `requests`."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[FakeLangSmith]:
        fake = cls()
        thread = threading.Thread(target=fake._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield fake
        finally:
            fake._server.shutdown()
            fake._server.server_close()
            thread.join()


# A LangChain call after the CLI started, flushed before exit: traced, it reaches LangSmith.
TRACED_CALL = """
from cli.main import main
main(["feedback", "--json"])
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers.langchain import get_client, wait_for_all_tracers
RunnableLambda(lambda text: text.upper()).invoke("a passage of a source document")
wait_for_all_tracers()
import os
if os.environ["LANGSMITH_TRACING"] == "true":  # as the CLI left it
    get_client().flush()  # the client batches in a thread of its own; exit may come first
"""


@pytest.mark.parametrize("allowed", [False, True])
def test_langsmith_tracing_stays_off_unless_briefbot_allows_it(
    env: dict[str, str], tmp_path: Path, allowed: bool
) -> None:
    with FakeLangSmith.running() as langsmith:
        tracing = {
            "LANGSMITH_TRACING": "true",
            "LANGCHAIN_TRACING_V2": "true",
            "LANGSMITH_ENDPOINT": langsmith.url,
            "LANGSMITH_API_KEY": "lsv2_fake_key",
            "BRIEFBOT_LANGSMITH_TRACING": str(allowed).lower(),
        }
        result = python(TRACED_CALL, {**env, **tracing}, tmp_path)
    assert result.returncode == 0, result.stderr
    if allowed:  # the fake does see a trace, so an empty list below means none was sent
        assert any(request.startswith("POST /runs") for request in langsmith.requests)
    else:
        assert langsmith.requests == []
