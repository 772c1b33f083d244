"""Follow-ups: whether a message needs the conversation to be understood (only then is the
model asked to rewrite it), and whether the model's rewrite is one plausible question (only
then is it used instead of the message).

Both are cheap text rules, so a standalone question never pays for a rewrite, and a rewrite
that is a transcript, an answer or an essay never replaces what the user asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.models import Turn
from retrieval.text import split_sentences, terms

# Words that refer back to something said before, in the languages the bot is most often
# asked in. English first; the others are only the unambiguous ones.
_REFERRING = frozenset(
    """he she it they him them this that these those there his her hers its their theirs
    himself herself itself themselves
    er ihm ihn ihr ihre ihnen dies diese dieser dieses dort sein seine seiner
    il elle ils elles lui leur leurs cela ceci celui celle ceux son sa ses
    él ella ellos ellas eso esto ese esa esos esas allí ahí
    он она оно они его её ее их ему ей им этот эта это эти там тот та те""".split()
)
_AMBIGUOUS = frozenset({"that", "there"})
_BEFORE_REFERENCE = frozenset(
    "about of with for on in from at to is was did does do mean means like after before by".split()
)
# First words that continue the conversation: "and what about Syria?", "but why?".
_CONTINUING = frozenset("and but also so then und aber et mais y pero и а но".split())
_SHORT = 2  # a message of at most this many words has no topic of its own
_CONTINUATION_WORDS = 5  # "and what about Syria?" continues; a long question stands alone
_WORD = re.compile(r"[^\W\d_]+")
_ROLE = re.compile(r"(?:^|\s)(?:user|assistant|system|human|ai)\s*:", re.IGNORECASE)
_LABEL = re.compile(
    r"^(?:(?:the\s+)?(?:standalone|rewritten|new)\s+)?(?:question|message)\s*:\s*", re.IGNORECASE
)
_DELIMITERS = ("<<<", ">>>", "\u2039\u2039\u2039", "\u203a\u203a\u203a")
_QUESTION_MARKS = ("?", "\uff1f", "\u061f")


def reads_as_follow_up(question: str) -> bool:
    """True when the message seems to lean on the conversation: it refers back ("he", "that",
    "there", ...), it is very short or has no content words of its own ("why?"), or it
    continues the last turn ("and what about Syria?")."""
    found = [word.lower() for word in _WORD.findall(question)]
    if len(found) <= _SHORT:
        return True
    if any(_refers_back(found, i) for i in range(len(found))):
        return True
    if found[0] in _CONTINUING and len(found) <= _CONTINUATION_WORDS:
        return True
    return not terms(question)


def _refers_back(found: Sequence[str], index: int) -> bool:
    word = found[index]
    if word not in _REFERRING:
        return False
    if word not in _AMBIGUOUS:
        return True
    # "that" and "there" refer back at the end ("who said that?", "how many are there?") or
    # after a preposition or verb ("about that", "is that so?"), not as a conjunction
    # ("argued that U.S. forces...") or in "are there troops in Syria?".
    return index >= len(found) - 2 or (index > 0 and found[index - 1] in _BEFORE_REFERENCE)


def conversation_chars(history: Sequence[Turn]) -> int:
    return sum(len(turn.question) + len(turn.answer) for turn in history)


def plausible_rewrite(rewritten: str, question: str, history_chars: int) -> str | None:
    """The rewrite as one clean question, or None when it is not one: more than one line or
    sentence, no question mark at its end, a transcript ("User: ..."), our delimiters, or much
    longer than the question and the conversation it came from."""
    text = rewritten.strip().strip("\"'\u201c\u201d\u00ab\u00bb").strip()
    text = _LABEL.sub("", text).strip().strip("\"'\u201c\u201d\u00ab\u00bb").strip()
    if not text or "\n" in text or _ROLE.search(text):
        return None
    if any(delimiter in text for delimiter in _DELIMITERS):
        return None
    if not text.endswith(_QUESTION_MARKS) or len(split_sentences(text)) != 1:
        return None
    if len(text) > min(len(question) + history_chars, 2 * len(question) + 200):
        return None
    return text
