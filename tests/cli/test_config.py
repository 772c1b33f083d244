"""`briefbot config`: the settings in force, where each came from, and `--check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main

TOKEN = "4242:config-test-token-never-shown"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sources: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("BRIEFBOT_SOURCES_DIR", str(sources))
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "data"))


def test_config_shows_every_setting_with_its_origin_and_masks_secrets(
    env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_TOP_K=7\nBRIEFBOT_HISTORY_TURNS=2\n", "utf-8")
    monkeypatch.setenv("BRIEFBOT_HISTORY_TURNS", "3")  # the environment wins over .env
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    status, out, err = run_cli(capsys, "config")
    assert status == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["BRIEFBOT_TOP_K"].split()[1:] == ["7", "(.env)"]
    assert lines["BRIEFBOT_HISTORY_TURNS"].split()[1:] == ["3", "(environment)"]
    assert lines["BRIEFBOT_CHUNK_CHARS"].split()[1:] == ["600", "(default)"]
    assert lines["TELEGRAM_BOT_TOKEN"].split()[1:] == ["********", "(environment)"]
    assert lines["OPENAI_API_KEY"].split()[1:] == ["unset", "(default)"]
    assert "BRIEFBOT_LANGSMITH_TRACING" in lines
    assert TOKEN not in out + err


def test_config_json_has_value_and_origin_of_each_variable(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-config-test-key-never-shown")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://user:hunter2-password@llm.example.org/v1")
    monkeypatch.setenv("BRIEFBOT_ADMIN_IDS", "1, 2")
    status, out, _ = run_cli(capsys, "config", "--json")
    assert status == 0
    report = json.loads(out)
    settings = report["settings"]
    assert settings["BRIEFBOT_TOP_K"] == {"value": 5, "origin": "default"}
    assert settings["BRIEFBOT_ADMIN_IDS"] == {"value": [1, 2], "origin": "environment"}
    assert settings["OPENAI_API_KEY"] == {"value": "********", "origin": "environment"}
    assert settings["TELEGRAM_BOT_TOKEN"] == {"value": None, "origin": "default"}
    assert settings["OPENAI_BASE_URL"]["value"] == "https://********@llm.example.org/v1"
    assert report["warnings"] == report["problems"] == []
    assert "sk-config-test-key-never-shown" not in out
    assert "hunter2" not in out


def test_a_misspelt_variable_is_warned_about_with_the_real_name(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFBOT_TOPK", "9")
    status, _, err = run_cli(capsys, "config")
    assert status == 0  # a warning: the bot still starts
    assert "BRIEFBOT_TOPK" in err
    assert "did you mean BRIEFBOT_TOP_K?" in err
    # Every command warns, not only `config`.
    status, _, err = run_cli(capsys, "feedback")
    assert status == 0
    assert "warning: BRIEFBOT_TOPK (in the environment) is not a briefbot setting" in err


def test_check_names_every_problem_and_exits_2(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFBOT_TOP_K", "lots")
    monkeypatch.setenv("BRIEFBOT_ADMIN_IDS", "12, 3x4, 56")
    monkeypatch.setenv("BRIEFBOT_EMBEDER", "wordllama")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    status, out, err = run_cli(capsys, "config", "--check")
    assert status == 2
    problems = err.splitlines()
    assert len(problems) == 3, err
    assert any(line.startswith("briefbot: BRIEFBOT_TOP_K:") for line in problems)
    assert any("BRIEFBOT_ADMIN_IDS" in line and "'3x4'" in line for line in problems)
    assert any("did you mean BRIEFBOT_EMBEDDER?" in line for line in problems)
    assert TOKEN not in out + err
    status, out, _ = run_cli(capsys, "config", "--check", "--json")
    assert status == 2
    assert len(json.loads(out)["problems"]) == 3


def test_check_fails_on_a_sources_dir_that_is_missing_or_empty(
    env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(capsys, "config", "--check")
    assert (status, err) == (0, "")
    assert "The settings are usable." in out
    monkeypatch.setenv("BRIEFBOT_SOURCES_DIR", str(tmp_path / "nowhere"))
    status, _, err = run_cli(capsys, "config", "--check")
    assert status == 2
    assert f"BRIEFBOT_SOURCES_DIR {tmp_path / 'nowhere'} does not exist" in err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.pdf").write_bytes(b"%PDF")
    monkeypatch.setenv("BRIEFBOT_SOURCES_DIR", str(tmp_path / "empty"))
    status, _, err = run_cli(capsys, "config", "--check")
    assert status == 2
    assert "has no .txt or .md files" in err


def test_check_in_llm_mode_loads_the_prompts(
    env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-config-test-key")
    monkeypatch.setenv("BRIEFBOT_PROMPTS_DIR", str(tmp_path / "no-prompts"))
    status, _, err = run_cli(capsys, "config", "--check")
    assert status == 2
    assert "BRIEFBOT_PROMPTS_DIR" in err
    assert "no-prompts" in err


def test_config_without_check_still_reports_bad_values(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFBOT_CHUNK_CHARS", "5")
    status, out, err = run_cli(capsys, "config", "--json")
    assert status == 2
    report = json.loads(out)
    assert report["settings"] is None
    assert report["problems"][0].startswith("BRIEFBOT_CHUNK_CHARS:")


@pytest.mark.parametrize("variable", ["BRIEFBOT_TOP_K", "BRIEFBOT_LOG_LEVEL", "OPENAI_API_KEY"])
def test_an_empty_variable_means_its_default(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str
) -> None:
    """As compose passes a variable that is not set: `BRIEFBOT_TOP_K=`."""
    monkeypatch.setenv(variable, "")
    status, out, _ = run_cli(capsys, "config", "--json")
    assert status == 0
    assert json.loads(out)["settings"][variable]["origin"] == "default"
