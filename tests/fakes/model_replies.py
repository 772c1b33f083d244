"""Scripted model behaviour for the fake OpenAI server that understands our prompt format:
a model that cites the right passage, wherever retrieval ranked it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Body = dict[str, Any]


def user_text(body: Body) -> str:
    """The last user message of a chat completion request."""
    return str([m for m in body["messages"] if m["role"] == "user"][-1]["content"])


def passage_number(body: Body, needle: str) -> int:
    """The number the request gave the passage that contains `needle`."""
    for number, text in re.findall(
        r"<<<PASSAGE (\d+)\n(.*?)\nPASSAGE \1>>>", user_text(body), re.S
    ):
        if needle in text:
            return int(number)
    raise AssertionError(f"no passage with {needle!r} in the request")


def cites(needle: str, sentence: str) -> Callable[[Body], str]:
    """A model that answers `sentence` citing the passage holding `needle`."""
    return lambda body: f"{sentence} [{passage_number(body, needle)}]"
