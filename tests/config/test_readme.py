"""The README's settings table lists every setting the code reads."""

from __future__ import annotations

from config.settings import Settings, env_name
from tests.conftest import REPO


def test_every_setting_is_in_the_readme_settings_table() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Settings\n")
    table = readme[start : readme.index("\n## ", start + 1)]
    missing = [
        env_name(name) for name in Settings.model_fields if f"`{env_name(name)}`" not in table
    ]
    assert missing == []
