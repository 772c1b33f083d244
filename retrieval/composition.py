"""The composition root: everything the front ends use, built from `Settings` here and only
here (the CLI and the bot both call these). Where each file lives under the data dir is
decided here too."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from config import Settings
from retrieval.answer.service import AnswerService
from retrieval.briefing.schedule import BriefingSchedule, instance_name
from retrieval.briefing.service import BriefingService
from retrieval.evidence.pipeline import AnswerModels
from retrieval.index.catalog import DatabaseCatalog, FileCatalog, IndexCatalog
from retrieval.index.embedders import make_embedder
from retrieval.index.live import LiveIndexes
from retrieval.index.store import IndexStore, chroma_client
from retrieval.index.vector_cache import VECTOR_CACHE_FILE, VectorCache
from retrieval.llm.prompts import load_prompts
from retrieval.reading import QuestionReader, english_words
from retrieval.service import KnowledgeBase
from retrieval.state.answer_log import AnswerLog
from retrieval.state.audit import AuditLog
from retrieval.state.conversations import Conversations
from retrieval.state.database import Database, DatabaseUnavailableError
from retrieval.state.leases import Leases
from retrieval.state.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)


def open_live_indexes(settings: Settings) -> LiveIndexes:
    """The index: its versions under the data dir, its collections in embedded Chroma or on
    the Chroma server the settings name (nothing is built until asked)."""
    client = chroma_client(settings)  # first: an unreachable server fails before a model loads
    embedder = make_embedder(settings)
    index_dir = settings.data_dir / "index"
    # A database the operator named and a Chroma server are what replicas share: the index
    # pointer then lives in the database, so a reload through one replica is what all of them
    # serve. Embedded Chroma is this data dir's alone, and so is its pointer.
    shared = settings.database_url is not None and settings.chroma_host is not None
    catalog: IndexCatalog = (
        DatabaseCatalog(
            Database(settings.state_database_url, settings.data_dir),
            settings.index_name,
            index_dir,
        )
        if shared
        else FileCatalog(index_dir)
    )
    store = IndexStore(client, index_dir, embedder, settings.index_name, catalog=catalog)
    cache = VectorCache(settings.data_dir / VECTOR_CACHE_FILE)
    return LiveIndexes(settings, embedder, store, cache)


def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    """Open the on-disk index under the data dir (nothing is built until asked)."""
    indexes = open_live_indexes(settings)
    # The prompts and answer models are loaded (and checked) now: a broken file stops the start.
    llm = None
    if settings.llm_enabled:
        # Here, not at the top: openai and LangChain take seconds to import, and an offline
        # start (`briefbot ask`, the console, the bot without a key) never needs them.
        from retrieval.llm.chat import ChatModel  # noqa: PLC0415

        llm = ChatModel(settings, load_prompts(settings.prompts_dir))
    reader = QuestionReader(english_words())
    return KnowledgeBase(
        indexes,
        AnswerService(settings, indexes.embedder, indexes, AnswerModels.load(), reader, llm),
        BriefingService(settings, indexes.embedder, indexes, reader, llm),
        llm_enabled=llm is not None,
    )


@dataclass(frozen=True, slots=True)
class State:
    """What the bot remembers, all in one database (BRIEFBOT_DATABASE_URL)."""

    database: Database
    answers: AnswerLog
    audit: AuditLog
    subscriptions: SubscriptionStore
    conversations: Conversations
    schedule: BriefingSchedule
    leases: Leases
    instance: str  # this process among replicas, in leases and claims

    def close(self) -> None:
        """Give up this process's leases (so another replica takes over at once), then close."""
        try:
            self.leases.release_all(self.instance)
        except DatabaseUnavailableError as error:
            log.warning("leases not released (%s); they expire by themselves", error)
        self.database.close()


def open_state(settings: Settings) -> State:
    """The state database, migrated to the current schema (DatabaseUnavailableError when it
    cannot be reached; a damaged SQLite file is set aside and started afresh)."""
    database = Database(settings.state_database_url, settings.data_dir)
    subscriptions = SubscriptionStore(database)
    leases, instance = Leases(database), instance_name()
    return State(
        database,
        AnswerLog(database),
        AuditLog(database),
        subscriptions,
        Conversations(database, settings.history_turns, settings.conversation_hours * 3600),
        BriefingSchedule(subscriptions, leases, instance),
        leases,
        instance,
    )
