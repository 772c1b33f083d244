"""What one call of the chat model gives back, and how long the calls of one answer may take.
Apart from the client (chat.py), so that the answer and briefing services, which run offline
too, import these without loading openai and LangChain (seconds of start-up)."""

from __future__ import annotations

import time
from dataclasses import dataclass

MIN_REQUEST_SECONDS = 0.05  # less time than this left: the deadline has passed


class LlmFailure(Exception):
    """The model gave no usable completion; `reason` is a short machine-readable word."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Completion:
    """What the model wrote. `truncated`: it stopped at max_tokens (finish_reason "length"), so
    its last sentence may be cut off. While streaming, `done` is False until the model ends."""

    text: str
    truncated: bool = False
    done: bool = True


class Deadline:
    """The time one answer may spend on the model, from its creation on."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() < MIN_REQUEST_SECONDS
