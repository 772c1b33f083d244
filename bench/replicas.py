"""Two replicas on one PostgreSQL database and one `chroma run` server (both real, started
here as the tests start them): how long until a reload through replica A is what replica B
answers from, and how long until B's scheduler takes over when A dies holding the lease.

    python -m bench.replicas     (about 2 minutes; prints a Markdown table)
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from config import load_settings
from retrieval.briefing.schedule import (
    LEASE_SECONDS,
    SCHEDULER_LEASE,
    TICK_SECONDS,
    BriefingSchedule,
)
from retrieval.composition import open_knowledge_base
from retrieval.state.database import Database
from retrieval.state.leases import Leases
from retrieval.state.subscriptions import SubscriptionStore
from tests.fakes.chroma_server import ChromaServer
from tests.fakes.postgres import running_postgres

REPO = Path(__file__).resolve().parents[1]
BRIDGE = "Bridge report\n\nThe Riverside bridge will cost 42 million euros.\n"
QUESTION = "How much will the Riverside bridge cost?"


def reload_visibility(url: str, server: ChromaServer, root: Path) -> dict[str, float]:
    sources = root / "sources"
    shutil.copytree(REPO / "seeds", sources)
    a, b = (
        open_knowledge_base(
            load_settings(
                sources_dir=sources,
                data_dir=root / name,
                database_url=url,
                chroma_host=server.host,
                chroma_port=server.port,
            )
        )
        for name in ("a", "b")
    )
    try:
        a.ingest()
        b.ask(QUESTION)  # b serves the first version
        started = time.perf_counter()
        b.ask(QUESTION)
        answer_seconds = time.perf_counter() - started
        (sources / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
        started = time.perf_counter()
        a.ingest()
        published = time.perf_counter()
        answer = b.ask(QUESTION)
        visible = time.perf_counter()
        assert "42 million" in answer.text, answer.text
        return {
            "reload on A (seconds)": published - started,
            "B's first answer from it (seconds)": visible - published,
            "B's answer on an unchanged index (seconds)": answer_seconds,
        }
    finally:
        a.close()
        b.close()


def scheduler_failover(url: str, root: Path) -> float:
    """A takes the scheduler lease and dies (never gives it up); B tries every tick, as each
    replica's `due_runs` does."""
    database = Database(url, root / "failover")
    try:
        BriefingSchedule(SubscriptionStore(database), Leases(database), "replica-a").due_runs()
        died = time.monotonic()
        while not Leases(database).acquire(SCHEDULER_LEASE, "replica-b", LEASE_SECONDS):
            time.sleep(TICK_SECONDS)
        return time.monotonic() - died
    finally:
        database.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "chroma").mkdir()
        with running_postgres() as postgres, ChromaServer(root / "chroma") as server:
            visibility = reload_visibility(postgres.new_database(), server, root)
            failover = scheduler_failover(postgres.new_database(), root)
    print("| measured | value |\n|---|---|")
    for name, seconds in visibility.items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"| scheduler taken over after the holder died (seconds) | {failover:.0f} |")


if __name__ == "__main__":
    main()
