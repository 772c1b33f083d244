"""Typed settings for every front end (CLI, Telegram bot)."""

from config.settings import EmbedderName, Settings, SettingsError, env_name, load_settings

__all__ = ["EmbedderName", "Settings", "SettingsError", "env_name", "load_settings"]
