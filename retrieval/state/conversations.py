"""Recent turns per conversation, for understanding follow-ups. Bounded in turns per
conversation and in conversations; kept in memory only (a restart forgets them)."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Hashable

from retrieval.models import Turn

MAX_CONVERSATIONS = 10_000


class Conversations:
    def __init__(self, turns: int, max_conversations: int = MAX_CONVERSATIONS) -> None:
        self._turns = turns
        self._max = max_conversations
        self._history: OrderedDict[Hashable, deque[Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, key: Hashable) -> list[Turn]:
        with self._lock:
            return list(self._history.get(key, ()))

    def add(self, key: Hashable, turn: Turn) -> None:
        if self._turns == 0:
            return
        with self._lock:
            turns = self._history.pop(key, None) or deque(maxlen=self._turns)
            turns.append(turn)
            self._history[key] = turns  # most recent last
            while len(self._history) > self._max:
                self._history.popitem(last=False)

    def reset(self, key: Hashable) -> bool:
        with self._lock:
            return self._history.pop(key, None) is not None
