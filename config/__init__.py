"""Typed settings for every front end (CLI, Telegram bot)."""

from config.settings import (
    EffectiveSetting,
    EmbedderName,
    PassageVectors,
    Settings,
    SettingsError,
    effective_settings,
    env_name,
    load_settings,
    unknown_variables,
)

__all__ = [
    "EffectiveSetting",
    "EmbedderName",
    "PassageVectors",
    "Settings",
    "SettingsError",
    "effective_settings",
    "env_name",
    "load_settings",
    "unknown_variables",
]
