"""The one service every front end calls: reload, ask, brief, list sources.

A thin facade: the index lifecycle lives in `index.live`, answering in `answer.service`,
briefings in `briefing.service`. Build it with `retrieval.composition.open_knowledge_base`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence

from retrieval.answer.service import AnswerService
from retrieval.briefing.service import BriefingService
from retrieval.index.live import LiveIndexes
from retrieval.models import (
    MODE_EXTRACTIVE,
    MODE_LLM,
    Answer,
    AnswerUpdate,
    Briefing,
    IngestProgress,
    IngestReport,
    Manifest,
    SearchHit,
    Turn,
    WhatsNew,
)


class KnowledgeBase:
    def __init__(
        self,
        indexes: LiveIndexes,
        answers: AnswerService,
        briefings: BriefingService,
        llm_enabled: bool,
    ) -> None:
        self._indexes = indexes
        self._answers = answers
        self._briefings = briefings
        self._llm_enabled = llm_enabled

    @property
    def mode(self) -> str:
        return MODE_LLM if self._llm_enabled else MODE_EXTRACTIVE

    @property
    def indexes(self) -> LiveIndexes:
        return self._indexes

    def close(self) -> None:
        self._indexes.close()

    # -- the index ------------------------------------------------------------------------

    def ingest(self, wait: bool = True, progress: IngestProgress | None = None) -> IngestReport:
        """Re-read the sources; publish and serve a new version if anything changed.
        Questions meanwhile are answered from the version being replaced. With wait=False,
        a reload already running makes this one fail at once.

        progress, when given, is called from the thread running the ingest with a stage
        ("reading", "embedding", "writing") and done of total; it must not raise."""
        return self._indexes.ingest(wait, progress)

    def rollback(self) -> Manifest:
        """Serve the previous index version again (until the next reload)."""
        return self._indexes.rollback()

    def ensure_index(self) -> IngestReport | None:
        """Bring the index up to date; with a bad source, keep serving the last good one."""
        return self._indexes.ensure()

    def check_ready(self) -> Manifest:
        """The version being served, once Chroma answers too; IndexUnavailableError (or its
        IndexServerUnreachableError) when either is not so."""
        manifest = self.manifest()
        self._indexes.store.check_reachable()
        return manifest

    def manifest(self) -> Manifest:
        return self._indexes.current().manifest

    # -- questions ------------------------------------------------------------------------

    def check_question(self, question: str) -> str:
        """The question cleaned, or QuestionError (empty, too long)."""
        return self._answers.check_question(question)

    def search(self, question: str, k: int | None = None) -> list[SearchHit]:
        return self._answers.search(question, k)

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[Turn] = (),
        replying: bool = False,
    ) -> Answer:
        """Answer with the LLM when one is configured, else (or when it fails) extractively.
        `replying`: the question replies to one of the bot's answers (so it is a follow-up)."""
        return self._answers.ask(question, k, history, replying)

    def ask_streaming(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[Turn] = (),
        replying: bool = False,
    ) -> AsyncIterator[AnswerUpdate]:
        """Drafts of checked sentences while the model writes, then the checked answer."""
        return self._answers.ask_streaming(question, k, history, replying)

    def example_questions(self, limit: int = 3, doc_id: str | None = None) -> list[str]:
        """Questions the documents (or one document) answer, each checked by answering it."""
        return self._answers.example_questions(limit, doc_id)

    # -- briefings ------------------------------------------------------------------------

    def brief(
        self, topic: str | None = None, documents: Collection[str] | None = None
    ) -> Briefing:
        """A structured, cited overview of all documents (or of `documents`, by id), or of
        what they say on a topic."""
        return self._briefings.brief(topic, documents)

    def whats_new(self, seen: Mapping[str, str], topic: str | None = None) -> WhatsNew:
        """What changed since a briefing that covered `seen` (document id: content hash)."""
        return self._briefings.whats_new(seen, topic)
