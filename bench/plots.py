"""The plots of docs/benchmarks.md, drawn from one `make bench` run's results (PNG, matplotlib's
Agg backend: no display needed). matplotlib is a dev dependency, imported only here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import goals
from bench.ingest import Synthetic
from bench.scale import ScaleResult
from bench.telegram import TelegramResult


@contextmanager
def _figure(path: Path, title: str, panels: int) -> Iterator[list[Any]]:
    import matplotlib  # noqa: PLC0415 (only the bench draws)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    figure, axes = pyplot.subplots(1, panels, figsize=(5.2 * panels, 4.2), squeeze=False)
    try:
        figure.suptitle(title)
        yield list(axes[0])
        figure.tight_layout()
        figure.savefig(path, dpi=90)
    finally:
        pyplot.close(figure)


def _by_backend(results: list[ScaleResult]) -> dict[str, list[ScaleResult]]:
    grouped: dict[str, list[ScaleResult]] = {}
    for result in sorted(results, key=lambda r: r.passages):
        grouped.setdefault(result.backend, []).append(result)
    return grouped


def scale(results: list[ScaleResult], path: Path) -> None:
    """Question latency, memory and load time against the number of passages."""
    with _figure(path, "Retrieval at scale (synthetic passages)", 3) as (latency, memory, load):
        for (backend, rows), colour in zip(
            _by_backend(results).items(), ("C0", "C1"), strict=False
        ):
            sizes = [r.passages for r in rows]
            line = {"color": colour, "marker": "o"}
            latency.plot(sizes, [r.p50_ms for r in rows], "-", label=f"{backend} p50", **line)
            latency.plot(sizes, [r.p95_ms for r in rows], ":", label=f"{backend} p95", **line)
            if backend == "embedded":
                latency.plot(
                    sizes, [r.chroma_p50_ms for r in rows], "s--", color="C2", label="HNSW k=5 p50"
                )
                latency.plot(
                    sizes,
                    [r.brute_p50_ms for r in rows],
                    "^--",
                    color="C3",
                    label="NumPy exact p50",
                )
            peak = [r.peak_rss_mb for r in rows]
            memory.plot(sizes, peak, "-", label=f"{backend}: bot peak", **line)
            measured = [(r.passages, r.server_rss_mb) for r in rows if r.server_rss_mb is not None]
            if measured:
                server_sizes, server = zip(*measured, strict=True)
                memory.plot(server_sizes, server, ":", label="server: chroma run", **line)
            load.plot(sizes, [r.load_seconds for r in rows], "-", label=f"{backend}: load", **line)
            publish = [r.publish_seconds for r in rows]
            load.plot(sizes, publish, ":", label=f"{backend}: publish", **line)
        latency.axhline(
            goals.P50_MS_AT_100K, color="grey", ls="--", lw=0.8, label="goal p50 at 100k"
        )
        latency.axhline(
            goals.P95_MS_AT_100K, color="grey", ls=":", lw=0.8, label="goal p95 at 100k"
        )
        memory.axhline(goals.RSS_MB_AT_10K, color="grey", ls="--", lw=0.8, label="goal at 10k")
        for axes, label in ((latency, "ms per question"), (memory, "MB"), (load, "seconds")):
            axes.set_xscale("log")
            axes.set_xlabel("passages")
            axes.set_ylabel(label)
            axes.legend(fontsize=7)
        latency.set_yscale("log")
        load.set_yscale("log")
        latency.set_title("question latency, end to end")
        memory.set_title("peak RSS")
        load.set_title("index version: publish and load")


def ingest(synthetics: list[Synthetic], path: Path) -> None:
    """Ingest time at size, against the embedder alone on the same texts."""
    rows = sorted(synthetics, key=lambda s: s.passages)
    with _figure(path, "Ingest at size (wordllama, synthetic passages)", 1) as (axes,):
        sizes = [s.passages for s in rows]
        axes.plot(sizes, [s.ingest_s for s in rows], "o-", label="ingest, end to end")
        axes.plot(sizes, [s.raw_s for s in rows], "s--", label="the embedder alone, same texts")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("passages")
        axes.set_ylabel("seconds")
        axes.legend(fontsize=8)


def telegram(result: TelegramResult, path: Path) -> None:
    """Each burst's last answer against the floor the rate limits set, and the goal."""
    bursts = result.bursts
    names = [
        f"{b.mode}\n{b.model_in_flight} model slots" if b.model_in_flight else b.mode
        for b in bursts
    ]
    with _figure(path, f"{bursts[0].chats} chats asking at once", 1) as (axes,):
        positions = range(len(bursts))
        axes.bar(
            [p - 0.2 for p in positions], [b.seconds for b in bursts], 0.4, label="last answer"
        )
        axes.bar(
            [p + 0.2 for p in positions], [b.floor_seconds for b in bursts], 0.4, label="floor"
        )
        axes.scatter(
            list(positions),
            [b.floor_seconds * goals.BURST_RATIO for b in bursts],
            marker="_",
            s=900,
            color="black",
            label=f"goal: {goals.BURST_RATIO:g} x floor",
        )
        axes.set_xticks(list(positions), names, fontsize=8)
        axes.set_ylabel("seconds")
        axes.legend(fontsize=8)
