"""Measure retrieval and answers on a question file (JSON lines).

Each line: {"question": ..., "answer_any": [acceptable strings], "unanswerable": true|false},
optionally with "id" and "doc" (the file the answer is in). A passage is relevant when it
contains an acceptable string (case-insensitive); an answer is right when the answer or its
quotes contain one.

Every question belongs to one half of its set, the tuning half or the held-out half, fixed by a
hash of its id (or text): anything fitted or tuned is fitted on the tuning half only, and the
numbers reported are the held-out half's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from retrieval.errors import BriefbotError
from retrieval.models import Answer, SearchHit
from retrieval.sources.verify import SourceTexts

Half = Literal["tune", "heldout"]
HALVES: tuple[Half, ...] = ("tune", "heldout")


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    question: str
    answer_any: tuple[str, ...]
    unanswerable: bool
    key: str = ""  # the id, or the question when the line has none: what the half hangs on
    doc: str | None = None

    @property
    def half(self) -> Half:
        return half_of(self.key or self.question)


def half_of(key: str) -> Half:
    """The half a question belongs to, for good: the parity of a hash of its key."""
    return HALVES[hashlib.sha256(key.encode("utf-8")).digest()[0] % 2]


@dataclass(slots=True)
class EvalReport:
    questions: int = 0
    answerable: int = 0
    unanswerable: int = 0
    hit_at_1: float = 0.0
    hit_at_k: float = 0.0
    mrr: float = 0.0
    answer_accuracy: float = 0.0
    refusal_precision: float = 0.0
    refusal_recall: float = 0.0
    citation_validity: float = 0.0
    # The strict scorer, the one the team's unseen sets use: an answer counts when it is
    # grounded and a verified quote from the right document (when the line names one) holds
    # an acceptable answer; a decline counts when the question is unanswerable.
    answered_correct: int = 0
    declined_correct: int = 0
    overall_accuracy: float = 0.0  # (answered_correct + declined_correct) / questions
    k: int = 0
    # How the answers were made ("llm", "extractive"), and why LLM answers fell back
    # ("timeout", "no_valid_citation", ...): in LLM mode, how often the model was used.
    answers_by_mode: dict[str, int] = field(default_factory=dict)
    fallback_reasons: dict[str, int] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("details")
        return {
            key: round(value, 3) if isinstance(value, float) else value
            for key, value in data.items()
        }


def load_questions(path: Path, half: Half | None = None) -> list[EvalQuestion]:
    """The questions of a file, or of one half of it."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = EvalQuestion(
                question=str(row["question"]),
                answer_any=tuple(str(a) for a in row.get("answer_any", [])),
                unanswerable=bool(row.get("unanswerable", False)),
                key=str(row.get("id") or row["question"]),
                doc=str(row["doc"]) if row.get("doc") else None,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BriefbotError(f"{path}:{number}: not a question line ({error})") from None
        if not question.unanswerable and not question.answer_any:
            raise BriefbotError(f"{path}:{number}: needs answer_any or unanswerable: true")
        if half in (None, question.half):
            questions.append(question)
    if not questions:
        raise BriefbotError(f"{path} has no questions" + (f" in its {half} half" if half else ""))
    return questions


def _contains_any(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(needle.lower() in lowered for needle in needles)


class Answerer(Protocol):
    """What can be evaluated: the KnowledgeBase, or a baseline (bench/baselines.py)."""

    def ask(self, question: str, k: int | None = None) -> Answer: ...

    def search(self, question: str, k: int | None = None) -> list[SearchHit]: ...


def evaluate(kb: Answerer, questions: list[EvalQuestion], k: int, sources_dir: Path) -> EvalReport:
    report = EvalReport(questions=len(questions), k=k)
    reciprocal_ranks: list[float] = []
    hits_1 = hits_k = correct = declined_right = declined = citations = valid = 0
    source_texts = SourceTexts(sources_dir)  # read once: the eval does not edit the sources
    for item in questions:
        answer = kb.ask(item.question, k)
        report.answers_by_mode[answer.mode] = report.answers_by_mode.get(answer.mode, 0) + 1
        if answer.fallback:
            reasons = report.fallback_reasons
            reasons[answer.fallback] = reasons.get(answer.fallback, 0) + 1
        detail: dict[str, Any] = {
            "question": item.question,
            "answer": answer.text,
            "grounded": answer.grounded,
            "unanswerable": item.unanswerable,
            "mode": answer.mode,
            "fallback": answer.fallback,
        }
        verified_quotes = []
        for citation in answer.citations:
            citations += 1
            if source_texts.holds(citation.document, citation.start, citation.end, citation.quote):
                valid += 1
                # A question names its document with or without the file's extension.
                if item.doc in (None, citation.document, Path(citation.document).stem):
                    verified_quotes.append(citation.quote)
        if not answer.grounded:
            declined += 1
            declined_right += item.unanswerable
        if item.unanswerable:
            report.unanswerable += 1
            detail["correct"] = not answer.grounded
            report.declined_correct += not answer.grounded
        else:
            report.answerable += 1
            hits = kb.search(item.question, k)
            ranks = [
                r
                for r, hit in enumerate(hits, 1)
                if _contains_any(hit.passage.text, item.answer_any)
            ]
            reciprocal_ranks.append(1 / ranks[0] if ranks else 0.0)
            hits_1 += bool(ranks) and ranks[0] == 1
            hits_k += bool(ranks)
            right = answer.grounded and (
                _contains_any(answer.text, item.answer_any)
                or any(_contains_any(c.quote, item.answer_any) for c in answer.citations)
            )
            correct += right
            strict = answer.grounded and any(
                _contains_any(quote, item.answer_any) for quote in verified_quotes
            )
            report.answered_correct += strict
            detail.update(
                correct=right, correct_strict=strict, relevant_rank=ranks[0] if ranks else None
            )
        report.details.append(detail)
    if report.answerable:
        report.hit_at_1 = hits_1 / report.answerable
        report.hit_at_k = hits_k / report.answerable
        report.mrr = sum(reciprocal_ranks) / report.answerable
        report.answer_accuracy = correct / report.answerable
    report.refusal_precision = declined_right / declined if declined else 1.0
    report.refusal_recall = declined_right / report.unanswerable if report.unanswerable else 1.0
    report.citation_validity = valid / citations if citations else 1.0
    report.overall_accuracy = (report.answered_correct + report.declined_correct) / len(questions)
    return report
