"""Answers and votes, subscriptions, the audit log and conversations, on SQLite and on
PostgreSQL, through the same stores."""

from __future__ import annotations

from pathlib import Path

from retrieval.models import Answer, Turn
from retrieval.state.answer_log import AnswerLog
from retrieval.state.audit import AuditLog
from retrieval.state.conversations import Conversations
from retrieval.state.database import Database
from retrieval.state.subscriptions import SubscriptionStore

ANSWER = Answer("How many troops?", "About 2,500 [1].", True, "extractive", ())


def test_answers_and_votes_one_per_user_replaced_on_a_second_vote(database: Database) -> None:
    answers = AnswerLog(database)
    first, second = answers.record(ANSWER), answers.record(ANSWER)
    assert first != second
    assert answers.get(first) == ANSWER
    assert answers.get("unknown") is None
    assert answers.vote(first, 7, "down")
    assert answers.vote(first, 7, "up")  # replaces
    assert answers.vote(second, 8, "down")
    assert not answers.vote("unknown", 7, "up")
    exported = answers.export()
    assert sorted((vote["answer_id"], vote["vote"]) for vote in exported) == sorted(
        [(first, "up"), (second, "down")]
    )
    assert all(vote["question"] == "How many troops?" for vote in exported)
    assert all("user_id" not in vote for vote in exported)  # voters are not identified


def test_subscriptions_time_zones_and_briefing_marks(database: Database) -> None:
    store = SubscriptionStore(database)
    daily = store.add(-100, 0, "daily", "08:00", None, None, False, created_by=5)
    weekly = store.add(-100, 3, "weekly", "09:30", 4, "Iraq", True, created_by=5)
    other = store.add(-200, 0, "changes", "", None, None, False, created_by=6)
    assert [s.id for s in store.all()] == [daily.id, weekly.id, other.id]
    assert store.all(-100) == [daily, weekly]
    assert store.timezone(-100) == "UTC"
    store.set_timezone(-100, "Europe/Berlin")
    store.set_timezone(-100, "Asia/Baghdad")
    assert store.timezone(-100) == "Asia/Baghdad"
    assert store.timezones() == {-100: "Asia/Baghdad"}
    assert store.briefed(-100, 3, "Iraq") is None
    store.record_briefing(-100, 3, " IRAQ ", {"a.md": "h1"})
    store.record_briefing(-100, 3, "iraq", {"a.md": "h2"})
    marks = store.briefed(-100, 3, "Iraq")
    assert marks is not None
    assert marks[0] == {"a.md": "h2"}
    assert store.remove(-100, weekly.id) == [weekly.id]
    assert store.remove(-100, weekly.id) == []
    store.remove_chat(-100)
    assert store.all() == [other]
    assert store.timezone(-100) == "UTC"
    assert store.briefed(-100, 3, "Iraq") is None
    later = store.add(-300, 0, "daily", "07:00", None, None, False, created_by=6)
    assert later.id > other.id


def test_the_audit_log_keeps_entries_in_order(database: Database) -> None:
    audit = AuditLog(database)
    audit.record(1, "ann", "reload", "ok", documents=3)
    audit.record(2, "bob", "remove", "refused")
    entries = audit.entries()
    assert [(e["user"], e["action"], e["result"]) for e in entries] == [
        ("ann", "reload", "ok"),
        ("bob", "remove", "refused"),
    ]
    assert entries[0]["documents"] == 3


def test_conversations_keep_the_last_turns_and_expire(database: Database) -> None:
    now = [1000.0]
    conversations = Conversations(database, turns=2, retention_seconds=60, clock=lambda: now[0])
    for n in range(3):
        conversations.add((1, 0), Turn(f"q{n}", f"a{n}"))
    conversations.add((1, 5), Turn("topic", "thread"))
    assert conversations.history((1, 0)) == [Turn("q1", "a1"), Turn("q2", "a2")]
    assert conversations.history((1, 5)) == [Turn("topic", "thread")]
    now[0] += 61
    assert conversations.history((1, 0)) == []  # idle past the retention
    conversations.add((1, 0), Turn("fresh", "start"))
    assert conversations.history((1, 0)) == [Turn("fresh", "start")]
    assert conversations.reset((1, 0))
    assert not conversations.reset((1, 0))
    assert conversations.history((1, 0)) == []


def test_the_least_recently_used_conversations_go_beyond_the_bound(database: Database) -> None:
    now = [0.0]
    conversations = Conversations(database, turns=1, max_conversations=50, clock=lambda: now[0])
    for chat in range(100):  # the hundredth add prunes
        now[0] += 1
        conversations.add((chat, 0), Turn("q", "a"))
    assert conversations.history((0, 0)) == []
    assert conversations.history((49, 0)) == []
    assert conversations.history((50, 0)) == [Turn("q", "a")]
    assert conversations.history((99, 0)) == [Turn("q", "a")]


def test_a_follow_up_survives_a_restart_and_is_seen_by_another_replica(
    database_url: str, tmp_path: Path
) -> None:
    first = Database(database_url, tmp_path / "a")
    Conversations(first, turns=4).add((9, 0), Turn("Who is Justin Logan?", "A Cato scholar."))
    first.close()
    restarted, replica = (
        Database(database_url, tmp_path / "a"),
        Database(database_url, tmp_path / "b"),
    )
    try:
        for database in (restarted, replica):
            history = Conversations(database, turns=4).history((9, 0))
            assert history == [Turn("Who is Justin Logan?", "A Cato scholar.")]
    finally:
        restarted.close()
        replica.close()
