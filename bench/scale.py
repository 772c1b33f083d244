"""Retrieval at scale: 1k and 10k passages (100k with --large), embedded Chroma (and a
`chroma run` server with --server), beside exact NumPy brute force over the same vectors.

Passages are synthetic: each is three sentences drawn at random from a pool of real sentences
(the repo's seeds/ and, read in place when present, ../shared/corpus/news/; nothing of it is
written outside the temporary data dir). The pool is embedded once with the fast embedder
(wordllama); a passage's vector is the normalised sum of its sentences' vectors plus a little
noise, so vectors are real-embedding-shaped but passages at 100k cost no embedding time. The
embedder's throughput is measured apart. The index is built through `IndexStore.publish`, and
every question goes through the real path: `embed_question`, `HybridSearcher.search` (Chroma
HNSW + BM25, fused), then `EvidenceAnswerer.answer` over the hits' indexed sentences.

Each size runs in a fresh subprocess so its peak RSS (VmHWM) is its own.
`python -m bench.scale [--large] [--server] [--out docs/benchmarks-scale.md]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.machine import machine
from bench.measure import p95, status_mb
from bench.sets import REPO
from config import Settings
from retrieval.models import DocumentInfo, Passage, Span

# The fusion weights a deployment gets by default.
FUSION_DEFAULTS: dict[str, float] = {
    name: float(Settings.model_fields[f"{name}_weight"].default)
    for name in ("vector", "lexical", "sentence")
}

NEWS = REPO.parent / "shared" / "corpus" / "news"
SEEDS = REPO / "seeds"
SENTENCES_PER_PASSAGE = 3
K = 5
POOL_LIMIT = 3000
NOTES_MARKER = "<!-- notes: kept when bench.scale rewrites this file -->"


@dataclass(frozen=True, slots=True)
class ScaleResult:
    passages: int
    backend: str
    questions: int
    publish_seconds: float
    load_seconds: float  # HybridSearcher (passages read back, BM25 indexed) + indexed sentences
    p50_ms: float  # end to end: embed question, search (vector + BM25), answer step
    p95_ms: float
    embed_p50_ms: float
    search_p50_ms: float
    bm25_p50_ms: float
    answer_p50_ms: float
    chroma_p50_ms: float  # HNSW query alone, k=5
    chroma_p95_ms: float
    brute_p50_ms: float  # NumPy exact cosine top-5 over the same vectors
    brute_p95_ms: float
    recall_at_5: float  # HNSW top-5 against the brute-force top-5
    brute_self_top1: float  # brute force top-1 is the passage whose vector was the query
    rss_before_mb: float  # VmRSS with models loaded and passages made, before publish
    rss_published_mb: float  # after IndexStore.publish
    rss_loaded_mb: float  # after the searcher, indexed sentences and statistics
    peak_rss_mb: float  # VmHWM of this process (server: the client process only)
    server_rss_mb: float | None  # the chroma run process's VmHWM, when --server


def sentence_pool(limit: int = POOL_LIMIT) -> list[str]:
    """Distinct real sentences, 40 to 300 characters, in a stable order."""
    from retrieval.text import split_sentences

    files = sorted(SEEDS.glob("*.txt")) + (sorted(NEWS.glob("*.txt")) if NEWS.is_dir() else [])
    seen: dict[str, None] = {}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for span in split_sentences(text):
            sentence = " ".join(span.of(text).split())
            if 40 <= len(sentence) <= 300:
                seen.setdefault(sentence, None)
        if len(seen) >= limit:
            break
    return list(seen)[:limit]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def synthesise(
    count: int, pool: list[str], pool_vectors: np.ndarray, seed: int = 7
) -> tuple[list[Passage], np.ndarray, list[DocumentInfo]]:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(pool), size=(count, SENTENCES_PER_PASSAGE))
    vectors = pool_vectors[picks].sum(axis=1)
    vectors += rng.normal(0, 0.05, size=vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    passages = []
    docs_per = 10
    for i in range(count):
        parts = [pool[j] for j in picks[i]]
        text = " ".join(parts)
        spans, offset = [], 0
        for part in parts:
            spans.append(Span(offset, offset + len(part)))
            offset += len(part) + 1
        doc = i // docs_per
        passages.append(
            Passage(
                chunk_id=f"d{doc}-{i % docs_per}",
                doc_id=f"d{doc}",
                file_name=f"d{doc}.txt",
                title=f"Document {doc}",
                date=None,
                section="",
                chunk_index=i % docs_per,
                start=0,
                end=len(text),
                text=text,
                content_hash=_sha(text),
                sentences=tuple(spans),
            )
        )
    documents = []
    for doc in range(0, (count + docs_per - 1) // docs_per):
        chunks = min(docs_per, count - doc * docs_per)
        documents.append(
            DocumentInfo(f"d{doc}", f"d{doc}.txt", f"Document {doc}", None, ("",), chunks, "", 0)
        )
    return passages, vectors.astype(np.float32), documents


def brute_top(matrix: np.ndarray, query: np.ndarray, k: int = K) -> np.ndarray:
    """Exact cosine top-k (rows are unit vectors), best first."""
    scores = matrix @ query
    top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def run_size(count: int, questions: int = 200, backend: str = "embedded") -> ScaleResult:
    """Build `count` passages through IndexStore.publish and time `questions` questions."""
    from config import load_settings
    from retrieval.evidence.pipeline import AnswerModels, EvidenceAnswerer
    from retrieval.index.embedders import make_embedder
    from retrieval.index.search import HybridSearcher
    from retrieval.index.sentences import corpus_statistics, index_sentences, sentence_text
    from retrieval.index.store import IndexStore, open_chroma, open_chroma_server
    from retrieval.reading import QuestionReader, english_words
    from retrieval.text import terms

    embedder = make_embedder(load_settings(embedder="wordllama"))
    pool = sentence_pool()
    pool_vectors = np.asarray(embedder.embed_passages(pool), dtype=np.float32)
    pool_vectors /= np.linalg.norm(pool_vectors, axis=1, keepdims=True)
    by_hash = {_sha(s): pool_vectors[i : i + 1][0] for i, s in enumerate(pool)}
    latent_by_hash = dict(zip(by_hash, embedder.latent_terms(pool), strict=True))
    passages, vectors, documents = synthesise(count, pool, pool_vectors)

    work = Path(tempfile.mkdtemp(prefix="briefbot-scale-"))
    server: Any = None
    if backend == "server":
        from tests.fakes.chroma_server import ChromaServer

        server = ChromaServer(work)
        server.start()
        client = open_chroma_server(server.host, server.port, False, None)
    else:
        client = open_chroma(work / "chroma")
    try:
        (work / "index").mkdir(exist_ok=True)
        store = IndexStore(client, work / "index", embedder, "scale")
        rss_before = status_mb("VmRSS")
        started = time.perf_counter()
        manifest = store.publish(passages, vectors, documents, 600)
        publish_s = time.perf_counter() - started
        rss_published = status_mb("VmRSS")

        started = time.perf_counter()
        indexed = store.passages(manifest)
        sentences = index_sentences(indexed, by_hash, latent_by_hash)
        searcher = HybridSearcher(
            store,
            manifest,
            indexed,
            sentences,
            vector_weight=FUSION_DEFAULTS["vector"],
            lexical_weight=FUSION_DEFAULTS["lexical"],
            sentence_weight=FUSION_DEFAULTS["sentence"],
        )
        corpus = corpus_statistics([s for group in sentences.values() for s in group])
        answerer = EvidenceAnswerer(AnswerModels.load(), corpus)
        reader = QuestionReader(english_words())
        load_s = time.perf_counter() - started
        rss_loaded = status_mb("VmRSS")

        collection = store.collection(manifest)
        rng = np.random.default_rng(11)
        targets = rng.integers(0, count, size=questions + 5)
        total, embed_t, search_t, bm25_t, answer_t = [], [], [], [], []
        chroma_t, brute_t, recalls, self_top1 = [], [], [], []
        for n, target in enumerate(targets):
            passage = passages[int(target)]
            t0 = time.perf_counter()
            question = reader.read(sentence_text(passage, 1), corpus)
            read = time.perf_counter()
            qv, latent = embedder.embed_question_and_terms(question.text)
            t1 = time.perf_counter()
            hits = searcher.search(question.text, qv, K)
            t2 = time.perf_counter()
            answerer.answer(question, qv, latent.result(), hits, sentences)
            t3 = time.perf_counter()
            searcher.lexical_scores(terms(question.text))
            t4 = time.perf_counter()
            q = np.asarray(qv, dtype=np.float32).reshape(-1)
            q = q / np.linalg.norm(q)
            t5 = time.perf_counter()
            exact = brute_top(vectors, q)
            t6 = time.perf_counter()
            result = collection.query(query_embeddings=q.reshape(1, -1), n_results=K, include=[])
            t7 = time.perf_counter()
            own = brute_top(vectors, vectors[int(target)], 1)
            if n < 5:
                continue  # warm-up
            total.append((t3 - t0) * 1000)
            embed_t.append((t1 - read) * 1000)
            search_t.append((t2 - t1) * 1000)
            answer_t.append((t3 - t2) * 1000)
            bm25_t.append((t4 - t3) * 1000)
            brute_t.append((t6 - t5) * 1000)
            chroma_t.append((t7 - t6) * 1000)
            exact_ids = {passages[int(i)].chunk_id for i in exact}
            recalls.append(len(exact_ids & set(result["ids"][0])) / K)
            self_top1.append(float(int(own[0]) == int(target)))
        med = statistics.median
        return ScaleResult(
            passages=count,
            backend=backend,
            questions=len(total),
            publish_seconds=publish_s,
            load_seconds=load_s,
            p50_ms=med(total),
            p95_ms=p95(total),
            embed_p50_ms=med(embed_t),
            search_p50_ms=med(search_t),
            bm25_p50_ms=med(bm25_t),
            answer_p50_ms=med(answer_t),
            chroma_p50_ms=med(chroma_t),
            chroma_p95_ms=p95(chroma_t),
            brute_p50_ms=med(brute_t),
            brute_p95_ms=p95(brute_t),
            recall_at_5=float(np.mean(recalls)),
            brute_self_top1=float(np.mean(self_top1)),
            rss_before_mb=rss_before,
            rss_published_mb=rss_published,
            rss_loaded_mb=rss_loaded,
            peak_rss_mb=status_mb("VmHWM"),
            server_rss_mb=status_mb("VmHWM", str(server._process.pid)) if server else None,
        )
    finally:
        if server is not None:
            server.stop()


def embedder_throughput(name: str = "wordllama", texts: int = 1000) -> float:
    """Texts per second of the embedder alone on pool sentences, batches of 64."""
    from config import load_settings
    from retrieval.index.embedders import make_embedder

    embedder = make_embedder(load_settings(embedder=name))
    pool = sentence_pool()[:texts]
    embedder.embed_passages(pool[:2])
    started = time.perf_counter()
    for offset in range(0, len(pool), 64):
        embedder.embed_passages(pool[offset : offset + 64])
    return len(pool) / (time.perf_counter() - started)


def _in_subprocess(count: int, questions: int, backend: str) -> ScaleResult:
    code = (
        "import json,dataclasses,sys;from bench.scale import run_size;"
        f"r=run_size({count},{questions},{backend!r});"
        "print('RESULT '+json.dumps(dataclasses.asdict(r)))"
    )
    out = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return ScaleResult(**json.loads(line[len("RESULT ") :]))


DESCRIPTION = (
    "Synthetic passages: three real sentences each (seeds/ and the news corpus, read in "
    "place), drawn at random; vectors are the normalised sum of the sentences' wordllama "
    "vectors plus noise (sigma 0.05 per dimension), published through `IndexStore.publish`. "
    "Questions are a passage's middle sentence, embedded for real per question. "
    "End to end = `embed_question` + `HybridSearcher.search` (Chroma HNSW pool + BM25 "
    "over every passage, fused) + `EvidenceAnswerer.answer`. BM25 is also timed alone. "
    "Chroma k=5 and NumPy brute force (exact cosine, same vectors) are timed on the same "
    "query vector; recall@5 is HNSW's top 5 against brute force's. Each size runs in a fresh "
    "process, so its peak RSS is its own; with the server, peak RSS is the client process "
    "and *server RSS* the `chroma run` process."
)


def measure(sizes: list[int], backends: list[str], questions: int) -> list[ScaleResult]:
    """Every size on every backend, each in a fresh subprocess."""
    results = []
    for backend in backends:
        for size in sizes:
            results.append(_in_subprocess(size, questions, backend))
            print(json.dumps(asdict(results[-1])), flush=True)
    return results


def table(results: list[ScaleResult], throughput: dict[str, float]) -> list[str]:
    """The results as a Markdown table, and the embedder's own speed under it."""
    lines = [
        "| passages | backend | p50 ms | p95 ms | embed | search | of it BM25 | answer | "
        "Chroma k=5 p50/p95 | brute p50/p95 | recall@5 | self top-1 | publish s | load s | "
        "RSS MB before/published/loaded | peak RSS MB | server RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.passages:,} | {r.backend} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | "
            f"{r.embed_p50_ms:.2f} | {r.search_p50_ms:.1f} | {r.bm25_p50_ms:.1f} | "
            f"{r.answer_p50_ms:.1f} | {r.chroma_p50_ms:.2f}/{r.chroma_p95_ms:.2f} | "
            f"{r.brute_p50_ms:.2f}/{r.brute_p95_ms:.2f} | {r.recall_at_5:.3f} | "
            f"{r.brute_self_top1:.2f} | {r.publish_seconds:.1f} | {r.load_seconds:.1f} | "
            f"{r.rss_before_mb:.0f}/{r.rss_published_mb:.0f}/{r.rss_loaded_mb:.0f} | "
            f"{r.peak_rss_mb:.0f} | "
            f"{'' if r.server_rss_mb is None else f'{r.server_rss_mb:.0f}'} |"
        )
    lines += [
        "",
        "Embedder alone (pool sentences, batches of 64): "
        + ", ".join(f"{name} {rate:,.0f} texts/s" for name, rate in throughput.items())
        + ".",
    ]
    return lines


def write_with_notes(out: Path, text: str) -> None:
    """Write `text` to `out`, then NOTES_MARKER and what was written by hand below it."""
    notes = NOTES_MARKER + "\n"
    if out.exists() and NOTES_MARKER in (old := out.read_text(encoding="utf-8")):
        notes = old[old.index(NOTES_MARKER) :]
    out.write_text(text + "\n" + notes, encoding="utf-8")


def write_markdown(results: list[ScaleResult], throughput: dict[str, float], out: Path) -> None:
    lines = [
        "# Scale: 1k, 10k, 100k passages",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.scale` on "
        f"{machine()}; load average {os.getloadavg()[0]:.1f} when it ended (anything else "
        "running makes latencies noisy, RSS much less).",
        "",
        DESCRIPTION,
        "",
        *table(results, throughput),
        "",
    ]
    write_with_notes(out, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 100k passages")
    parser.add_argument("--server", action="store_true", help="also against `chroma run`")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--out", type=Path, default=REPO / "docs/benchmarks-scale.md")
    args = parser.parse_args()
    sizes = [1000, 10000] + ([100000] if args.large else [])
    backends = ["embedded"] + (["server"] if args.server else [])
    results = measure(sizes, backends, args.questions)
    write_markdown(results, {"wordllama": embedder_throughput()}, args.out)


if __name__ == "__main__":
    main()
