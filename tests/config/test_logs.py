"""Redaction of secrets in log records, however short the secret."""

from __future__ import annotations

import logging

import pytest

from config.logs import REDACTED, install_redaction, redact


def test_a_short_secret_is_redacted_in_messages_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_redaction(["Qz7#"])  # an unusual value: the factory stays installed for later tests
    logger = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.INFO, logger="tests.redaction"):
        logger.info("key %s in a message", "Qz7#")
        try:
            raise ValueError("key Qz7# in an error")
        except ValueError:
            logger.exception("failed")
    assert "Qz7#" not in caplog.text
    assert caplog.text.count(REDACTED) >= 2


def test_an_empty_secret_changes_nothing() -> None:
    assert redact("plain text", ["", "Qz7#"]) == "plain text"
    assert redact("a Qz7# b", ["", "Qz7#"]) == f"a {REDACTED} b"
