"""Prompt files: loaded and checked once at start-up, filled in per request.

Variables are `$name` (string.Template), so braces in prompt text need no escaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from retrieval.errors import BriefbotError

# Each prompt file and the variables it must use, no more and no fewer.
PROMPT_VARIABLES: dict[str, frozenset[str]] = {
    "system.txt": frozenset(),
    "answer.txt": frozenset({"passages", "question"}),
    "condense.txt": frozenset({"history", "question"}),
    "brief.txt": frozenset({"passages", "topic"}),
    "reminder.txt": frozenset(),
}


class PromptError(BriefbotError):
    """A prompt file is missing or uses the wrong variables; the message names the file."""


@dataclass(frozen=True, slots=True)
class PromptSet:
    system: str
    answer: Template
    condense: Template
    brief: Template
    reminder: str  # appended to the request when the model broke the citation rule

    def texts(self) -> tuple[str, ...]:
        """The fixed text of every prompt, without its variables: what an answer must not
        echo."""
        templates = (self.answer, self.condense, self.brief)
        filled = tuple(
            t.substitute({name: " " for name in t.get_identifiers()}) for t in templates
        )
        return (self.system, self.reminder, *filled)


def _load(directory: Path, name: str) -> Template:
    path = directory / name
    try:
        template = Template(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise PromptError(f"prompt file {path} cannot be read: {error}") from None
    if not template.is_valid():
        raise PromptError(f"prompt file {path} has a malformed $placeholder (write $$ for $)")
    used = set(template.get_identifiers())
    expected = PROMPT_VARIABLES[name]
    if unknown := used - expected:
        raise PromptError(
            f"prompt file {path} uses unknown variables: {', '.join(sorted(unknown))}"
        )
    if missing := expected - used:
        raise PromptError(f"prompt file {path} lacks variables: {', '.join(sorted(missing))}")
    if not template.template.strip():
        raise PromptError(f"prompt file {path} is empty")
    return template


def load_prompts(directory: Path) -> PromptSet:
    return PromptSet(
        system=_load(directory, "system.txt").template.strip(),
        answer=_load(directory, "answer.txt"),
        condense=_load(directory, "condense.txt"),
        brief=_load(directory, "brief.txt"),
        reminder=_load(directory, "reminder.txt").template.strip(),
    )
