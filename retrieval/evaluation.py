"""Measure retrieval and answers on a question file (JSON lines).

Each line: {"question": ..., "answer_any": [acceptable strings], "unanswerable": true|false}.
A passage is relevant when it contains an acceptable string (case-insensitive); an answer is
right when the answer or its quotes contain one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import BriefbotError
from retrieval.service import KnowledgeBase
from retrieval.sources.verify import SourceTexts


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    question: str
    answer_any: tuple[str, ...]
    unanswerable: bool


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
    k: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("details")
        return {
            key: round(value, 3) if isinstance(value, float) else value
            for key, value in data.items()
        }


def load_questions(path: Path) -> list[EvalQuestion]:
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
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BriefbotError(f"{path}:{number}: not a question line ({error})") from None
        if not question.unanswerable and not question.answer_any:
            raise BriefbotError(f"{path}:{number}: needs answer_any or unanswerable: true")
        questions.append(question)
    if not questions:
        raise BriefbotError(f"{path} has no questions")
    return questions


def _contains_any(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(needle.lower() in lowered for needle in needles)


def evaluate(
    kb: KnowledgeBase, questions: list[EvalQuestion], k: int, sources_dir: Path
) -> EvalReport:
    report = EvalReport(questions=len(questions), k=k)
    reciprocal_ranks: list[float] = []
    hits_1 = hits_k = correct = declined_right = declined = citations = valid = 0
    source_texts = SourceTexts(sources_dir)  # read once: the eval does not edit the sources
    for item in questions:
        answer = kb.ask(item.question, k)
        detail: dict[str, Any] = {
            "question": item.question,
            "answer": answer.text,
            "grounded": answer.grounded,
            "unanswerable": item.unanswerable,
        }
        for citation in answer.citations:
            citations += 1
            valid += source_texts.holds(
                citation.document, citation.start, citation.end, citation.quote
            )
        if not answer.grounded:
            declined += 1
            declined_right += item.unanswerable
        if item.unanswerable:
            report.unanswerable += 1
            detail["correct"] = not answer.grounded
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
            detail.update(correct=right, relevant_rank=ranks[0] if ranks else None)
        report.details.append(detail)
    if report.answerable:
        report.hit_at_1 = hits_1 / report.answerable
        report.hit_at_k = hits_k / report.answerable
        report.mrr = sum(reciprocal_ranks) / report.answerable
        report.answer_accuracy = correct / report.answerable
    report.refusal_precision = declined_right / declined if declined else 1.0
    report.refusal_recall = declined_right / report.unanswerable if report.unanswerable else 1.0
    report.citation_validity = valid / citations if citations else 1.0
    return report
