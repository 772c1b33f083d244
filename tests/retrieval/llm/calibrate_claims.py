"""The claim check of LLM answers on the labelled claims of `claims.py`: its precision and
recall at each support threshold, on the tuning and the held-out half, and per perturbation.

    .venv/bin/python -m tests.retrieval.llm.calibrate_claims

A claim counts as accepted when the check finds no problem with it (`Evidence.problem`, after
`is_fragment`); supported claims are the positives. The threshold is the one with the best
F0.5 on the tuning half (precision counts double: an accepted invented claim ships with a
citation, a rejected true one only makes the answer shorter).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from retrieval.answer.grounding import SUPPORT_THRESHOLD, Evidence, is_fragment
from retrieval.evaluation import half_of
from retrieval.index.sentences import corpus_statistics
from retrieval.models import CorpusStatistics, Passage
from tests.fakes.embedder import FakeCorpus
from tests.retrieval.llm.claims import (
    DOCUMENTS,
    FRESH_DOCUMENTS,
    Labelled,
    fresh_labelled,
    labelled,
)

FRESH = frozenset(fresh_labelled())
THRESHOLDS = tuple(round(0.05 * step, 2) for step in range(6, 20))


@dataclass(frozen=True)
class Scores:
    accepted_true: int
    accepted_false: int
    rejected_true: int
    rejected_false: int

    @property
    def precision(self) -> float:
        accepted = self.accepted_true + self.accepted_false
        return self.accepted_true / accepted if accepted else 1.0

    @property
    def recall(self) -> float:
        positives = self.accepted_true + self.rejected_true
        return self.accepted_true / positives if positives else 1.0

    def f(self, beta: float = 0.5) -> float:
        p, r = self.precision, self.recall
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


@lru_cache(maxsize=2)
def corpus(fresh: bool = False) -> tuple[list[Passage], CorpusStatistics]:
    """The labelled claims' documents indexed as ingest would (the fresh set adds one)."""
    indexed = FakeCorpus.of(FRESH_DOCUMENTS if fresh else DOCUMENTS)
    return list(indexed.passages), corpus_statistics(indexed.all_sentences())


def cited(item: Labelled, passages: list[Passage]) -> int:
    return next(
        i for i, p in enumerate(passages) if p.doc_id == item.doc and item.source in p.text
    )


def problem(item: Labelled, threshold: float = SUPPORT_THRESHOLD) -> str | None:
    passages, statistics = corpus(item in FRESH)
    if is_fragment(item.claim):
        return "fragment"
    return Evidence(passages, statistics, threshold).problem(item.claim, [cited(item, passages)])


def score(items: list[Labelled], threshold: float = SUPPORT_THRESHOLD) -> Scores:
    counts: Counter[tuple[bool, bool]] = Counter(
        (problem(item, threshold) is None, item.supported) for item in items
    )
    return Scores(
        counts[True, True], counts[True, False], counts[False, True], counts[False, False]
    )


def halves() -> dict[str, list[Labelled]]:
    items = labelled()
    return {
        "tune": [i for i in items if half_of(i.source) == "tune"],
        "heldout": [i for i in items if half_of(i.source) == "heldout"],
        "all": items,
        "fresh": fresh_labelled(),
    }


def choose(items: list[Labelled]) -> float:
    return max(THRESHOLDS, key=lambda t: (round(score(items, t).f(), 4), -t))


def main() -> None:
    parts = halves()
    print(
        f"claims: {len(parts['all'])} ({sum(i.supported for i in parts['all'])} supported); "
        f"tune {len(parts['tune'])}, held-out {len(parts['heldout'])}\n"
    )
    print("threshold   tune P   tune R  tune F.5   held-out P   held-out R")
    for threshold in THRESHOLDS:
        tune, heldout = score(parts["tune"], threshold), score(parts["heldout"], threshold)
        print(
            f"{threshold:9.2f} {tune.precision:8.3f} {tune.recall:8.3f} {tune.f():9.3f}"
            f" {heldout.precision:12.3f} {heldout.recall:12.3f}"
        )
    chosen = choose(parts["tune"])
    print(f"\nchosen on the tuning half: {chosen} (shipped: {SUPPORT_THRESHOLD})")
    for name, items in parts.items():
        scores = score(items, SUPPORT_THRESHOLD)
        print(
            f"  {name:8} precision {scores.precision:.3f}  recall {scores.recall:.3f}  "
            f"({scores.accepted_true} true accepted, {scores.accepted_false} false accepted, "
            f"{scores.rejected_true} true rejected, {scores.rejected_false} false rejected)"
        )
    print("\nrejected, by kind (at the shipped threshold; fresh set apart):")
    kinds: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for item in parts["all"] + parts["fresh"]:
        found = problem(item)
        kind = f"{item.kind} (fresh)" if item in FRESH else item.kind
        kinds[kind] += 1
        rejected[kind] += found is not None
        if found is not None:
            reasons[f"{kind}: {found}"] += 1
    for kind in kinds:
        print(f"  {kind:18} {rejected[kind]:3} of {kinds[kind]}")
    print("\nreasons:", dict(sorted(reasons.items())))
    print("\nmistakes:")
    for item in parts["all"] + parts["fresh"]:
        found = problem(item)
        if (found is None) != item.supported:
            passages, statistics = corpus(item in FRESH)
            share = Evidence(passages, statistics).support(item.claim, [cited(item, passages)])
            fresh = " (fresh)" if item in FRESH else ""
            print(f"  [{item.kind}{fresh} -> {found}] {share:.2f} {item.claim}")


if __name__ == "__main__":
    main()
