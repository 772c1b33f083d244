"""Checks on an LLM's answer before anyone sees it: every sentence must cite a passage it was
given, its numbers must be in what it cites, and it must not leak the instructions or a key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.models import IndexedSentence, Passage
from retrieval.text import ends_with_abbreviation, normalize, split_sentences, terms, words

NOT_COVERED_MARK = "NOT_COVERED"
_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKER_LIST = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})+)\]")  # "[1, 2]"
_MARKERS_AFTER_END = re.compile(r"([.!?\u3002])((?:\s*\[\d{1,3}\])+)")  # "claim. [1]"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MARKER_GLUED = re.compile(r"(\])([.!?])(?=[^\s\[])")
_LOWER_AFTER_END = re.compile(r"[.!?]\s+(?=[a-z])")
_LEAK_WINDOW = 8  # this many consecutive words of the instructions count as leaking them


@dataclass(frozen=True, slots=True)
class GroundedSentence:
    text: str  # without markers
    passages: tuple[int, ...]  # 0-based indexes into the passages the model was given


@dataclass(frozen=True, slots=True)
class Grounding:
    sentences: tuple[GroundedSentence, ...]
    dropped: int  # sentences removed: no valid citation, or a number their sources lack

    @property
    def usable(self) -> bool:
        return bool(self.sentences)


def is_not_covered(text: str) -> bool:
    return text.strip().strip(".").upper() == NOT_COVERED_MARK


def ground(text: str, passages: Sequence[Passage]) -> Grounding:
    """Keep the sentences of `text` that cite given passages and whose numbers those
    passages contain; citations of passages that were not given are removed."""
    text = _MARKER_LIST.sub(
        lambda m: "".join(f"[{n.strip()}]" for n in m.group(1).split(",")), text
    )
    text = _MARKERS_AFTER_END.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)
    text = _MARKER_GLUED.sub(r"\1\2 ", text)  # "claim [1].Next" -> "claim [1]. Next"
    kept: list[GroundedSentence] = []
    dropped = 0
    for sentence in _claims(text):
        cited = tuple(
            dict.fromkeys(
                int(n) - 1 for n in _MARKER.findall(sentence) if 1 <= int(n) <= len(passages)
            )
        )
        bare = " ".join(_MARKER.sub(" ", sentence).split())
        bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
        if not cited or not bare or not _numbers_supported(bare, [passages[i] for i in cited]):
            dropped += 1
            continue
        kept.append(GroundedSentence(bare, cited))
    return Grounding(tuple(kept), dropped)


def _claims(text: str) -> list[str]:
    """Sentences, also split where a lower-case sentence follows a full stop ("He resigned.
    and there are..."), so an uncited claim cannot ride along with a cited one."""
    claims = []
    for span in split_sentences(text):
        start = span.start
        for match in _LOWER_AFTER_END.finditer(text, span.start, span.end):
            end = match.start() + 1
            if text[match.start()] == "." and ends_with_abbreviation(text, match.start()):
                continue
            claims.append(text[start:end].strip())
            start = match.end()
        claims.append(text[start : span.end].strip())
    return [claim for claim in claims if claim]


def _numbers_supported(sentence: str, cited: Sequence[Passage]) -> bool:
    """Every number of the sentence appears in a cited passage ("2,500" matches "2500")."""
    available = {number for passage in cited for number in _numbers(passage.text)}
    return all(number in available for number in _numbers(sentence))


def _numbers(text: str) -> set[str]:
    return {
        match.group(0).replace(",", "").rstrip(".") for match in _NUMBER.finditer(normalize(text))
    }


def best_quote(cited_by: Sequence[str], sentences: Sequence[IndexedSentence]) -> IndexedSentence:
    """The passage sentence that shares most words with the answer sentences citing it."""
    wanted = set(terms(" ".join(cited_by)))
    return max(sentences, key=lambda s: (len(wanted & s.terms), -s.position))


def leaks(text: str, system_prompt: str, secrets: Sequence[str]) -> bool:
    """True if the text contains a secret or a run of the system prompt's words."""
    if any(secret and secret in text for secret in secrets):
        return True
    prompt_words = words(system_prompt)
    runs = {
        " ".join(prompt_words[i : i + _LEAK_WINDOW])
        for i in range(len(prompt_words) - _LEAK_WINDOW + 1)
    }
    answer_words = words(text)
    return any(
        " ".join(answer_words[i : i + _LEAK_WINDOW]) in runs
        for i in range(len(answer_words) - _LEAK_WINDOW + 1)
    )
