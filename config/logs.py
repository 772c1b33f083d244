"""Logging set-up with secret redaction applied to every record, whatever handler prints it.

HTTP client loggers print request URLs, and Telegram URLs contain the bot token; a library
may also put a URL into an exception. Redacting when a record is created (not in one handler)
covers every handler, test capture included.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

REDACTED = "[REDACTED]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret replaced, longest first, as written or URL-encoded."""
    for value in sorted((secret for secret in secrets if secret), key=len, reverse=True):
        text = text.replace(value, REDACTED).replace(quote(value, safe=""), REDACTED)
    return text


class _RedactingRecordFactory:
    """Wraps the record factory in force; installed once, later secrets are added to it."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self._wrapped = wrapped
        self.secrets: set[str] = set()

    def _scrub(self, text: str) -> str:
        return redact(text, self.secrets)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._wrapped(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # mismatched arguments: log what there is, not crash
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self._scrub(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self._scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self._scrub(record.stack_info)
        return record


def install_redaction(secrets: Iterable[str]) -> None:
    """Replace every secret in every log record's message and traceback from now on."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingRecordFactory):
        factory = _RedactingRecordFactory(factory)
        logging.setLogRecordFactory(factory)
    # Every secret, however short: a short key is still a key (it may garble logs that happen
    # to contain its characters, which is the lesser harm).
    factory.secrets.update(secret for secret in secrets if secret)


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log to stderr at `level`; quiet the libraries that log every HTTP request."""
    install_redaction(secrets)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # One line per request (with the token in the URL) is noise even when redacted.
    for name in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "chromadb"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLevelName(level)))
