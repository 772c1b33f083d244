"""The few domain errors. Front ends turn them into user messages; nothing else should."""

from __future__ import annotations


class BriefbotError(Exception):
    """Base of the errors a user or operator can act on; the message says what to do."""


class DocumentError(BriefbotError):
    """One source document cannot be used (unreadable, empty, binary, not UTF-8, too big)."""


class IngestError(BriefbotError):
    """An ingest could not complete; the previous index is still the one in use."""

    def __init__(self, message: str, failures: dict[str, str] | None = None) -> None:
        self.failures = failures or {}
        details = "".join(f"\n  {name}: {reason}" for name, reason in self.failures.items())
        super().__init__(message + details)


class QuestionError(BriefbotError):
    """The question cannot be answered as asked. `reason` ("empty", "too_long") and `values`
    let a front end say it in the user's language; the message is the English of it."""

    def __init__(self, message: str, reason: str, **values: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


class IndexUnavailableError(BriefbotError):
    """There is no usable index yet (nothing ingested, or the sources are missing)."""


class EmbeddingError(BriefbotError):
    """The embedding model could not embed (a remote embedding service failed)."""


class ReloadInProgressError(BriefbotError):
    """Another reload holds the index; this one did not start."""


class IndexServerUnreachableError(IndexUnavailableError):
    """The Chroma server holding the index cannot be reached or refuses us; the message names
    its host:port (never the token), so the operator knows what to start or fix."""
