"""The few domain errors. Front ends turn them into user messages; nothing else should.

An error's message is its English (the CLI and the logs print it). Where a front end words
it in another language, the error also carries a `reason` code from REASONS and the `values`
that fill it; the bot's catalog has an `error_<reason>` text for every code (its test walks
the raise sites). An error without a reason is shown in English.
"""

from __future__ import annotations

from typing import Final

# Every reason code raised with a BriefbotError, by what it is about.
REASONS: Final = frozenset(
    {
        # DocumentError: why one document cannot be used, read after its name
        "binary",
        "empty",
        "mismatch",
        "mismatch_old_office",
        "mismatch_rename",
        "no_body_text",
        "no_extension",
        "no_text",
        "not_utf8",
        "pdf_encrypted",
        "pdf_locked",
        "pdf_no_pages",
        "pdf_no_text_layer",
        "pdf_unsupported_feature",
        "docx_not_plain",
        "reader_failed",
        "read_failed",
        "shutting_down",
        "text_too_large",
        "too_big",
        "too_big_to_upload",
        "too_slow",
        "unpacked_too_large",
        "unpacked_too_large_for_memory",
        "unreadable",
        "unreadable_detail",
        "unsupported_type",
        "utf16",
        # IngestError
        "index_not_written",
        "no_sources",
        "no_sources_dir",
        "sources_unusable",
        # IndexUnavailableError, ReloadInProgressError, EmbeddingError
        "embedder_changed",
        "embedding_failed",
        "index_server_unreachable",
        "index_version_damaged",
        "index_version_set_aside",
        "index_version_unreadable",
        "no_manifest",
        "no_previous_version",
        "nothing_indexed",
        "pointer_unreadable",
        "previous_version_incomplete",
        "reload_running",
    }
)


class BriefbotError(Exception):
    """Base of the errors a user or operator can act on; the message says what to do."""

    def __init__(self, message: str, reason: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


class DocumentError(BriefbotError):
    """One source document cannot be used (unreadable, empty, binary, not UTF-8, too big)."""


class IngestError(BriefbotError):
    """An ingest could not complete; the previous index is still the one in use. `failures`
    names each file that cannot be used with its DocumentError."""

    def __init__(
        self,
        message: str,
        failures: dict[str, DocumentError] | None = None,
        reason: str | None = None,
        **values: object,
    ) -> None:
        self.failures = failures or {}
        details = "".join(f"\n  {name}: {name} {error}" for name, error in self.failures.items())
        super().__init__(message + details, reason, **values)


class QuestionError(BriefbotError):
    """The question cannot be answered as asked. `reason` ("empty", "no_words", "too_long")
    and `values` let a front end say it in the user's language (as question_<reason>, not
    error_<reason>: they are said to whoever asked, not to an admin)."""


class IndexUnavailableError(BriefbotError):
    """There is no usable index yet (nothing ingested, or the sources are missing)."""


class EmbeddingError(BriefbotError):
    """The embedding model could not embed (a remote embedding service failed)."""


class ReloadInProgressError(BriefbotError):
    """Another reload holds the index; this one did not start."""


class IndexServerUnreachableError(IndexUnavailableError):
    """The Chroma server holding the index cannot be reached or refuses us; the message names
    its host:port (never the token), so the operator knows what to start or fix."""
