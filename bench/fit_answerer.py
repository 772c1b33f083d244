"""Fit the offline answer step's models on the tuning halves of the dev sets, write them to
retrieval/evidence/weights.json, and report both halves (the held-out half is what counts).

    python -m bench.fit_answerer [--cache DIR] [--target-precision 0.8] [--dry-run]
                                 [--without FEATURE ...]

The dev sets: the seed questions, the news questions (over ../shared/corpus/news, read in
place), the SQuAD 2.0 article (../shared/eval/squad2-cct, CC BY-SA 4.0), and the seed
questions in other languages (for their own threshold only). Each set counts equally, whatever
its size. Indexes and retrieval results are kept under --cache between runs.

The steps: (1) a logistic model of "this sentence holds the answer" over the candidates of the
answerable tuning questions; (2) for each way of composing the evidence (when the next
sentence joins, when a sentence with the number, date or name the question wants joins
evidence that lacks one, and when the sentence nearest by vectors joins), a logistic model of
"this evidence answers the question", and the threshold with the most declines whose decline
precision (the mean over the sets) reaches the target; (3) the composition with the best mean
tuning accuracy wins; (4) for questions in other languages, a logistic model over the vector
features alone, fitted on the same tuning questions, and its threshold chosen on the tuning
half of the questions in other languages. The fits over questions weigh each set equally.

Besides both halves it reports checks that nothing is fitted on: each held-out half typed in
capitals and with one misspelling, the check sets of bench.sets.CHECKS whole, off-topic
questions in other languages, and small talk.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pickle
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.sets import CHECKS, MULTILINGUAL, OFFTOPIC_MULTILINGUAL, REPO, SETS, SMALL_TALK
from config import load_settings
from retrieval.composition import open_live_indexes
from retrieval.evaluation import HALVES, EvalQuestion, load_questions
from retrieval.evidence.features import (
    SENTENCE_FEATURES,
    Candidates,
    QuestionProfile,
    candidate_features,
    profile_question,
)
from retrieval.evidence.model import LogisticModel, Vector, fit_logistic
from retrieval.evidence.pipeline import (
    ANSWERABILITY_FEATURES,
    FOREIGN_FEATURES,
    WEIGHTS_FILE,
    AnswerModels,
    Outcome,
    answerability_row,
    foreign_row,
)
from retrieval.index.sentences import corpus_statistics
from retrieval.models import (
    CorpusStatistics,
    IndexedSentence,
    LatentTerms,
    Matrix,
    Reading,
    SearchHit,
)
from retrieval.reading import QuestionReader, english_words

CONTINUE_GRID = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.01)
# When a sentence with the number, date or name the question wants joins evidence that lacks
# one (1.01: never).
KIND_GRID = (0.05, 0.1, 0.2, 0.3, 1.01)
# When the sentence nearest the question by vectors alone joins (1.01: never).
NEAREST_GRID = (0.05, 0.1, 0.2, 0.3, 1.01)
THRESHOLD_GRID = tuple(float(t) for t in np.round(np.arange(0.02, 0.96, 0.01), 2))


@dataclass
class Retrieved:
    """One set's questions after retrieval: what the features are computed from. Cached on
    disk per index version, so trying other features needs no model or Chroma."""

    statistics: CorpusStatistics
    by_chunk: dict[str, tuple[IndexedSentence, ...]]
    questions: list[tuple[EvalQuestion, Reading, Matrix, LatentTerms, list[SearchHit]]]


@dataclass
class Example:
    """One question with its candidates and labels."""

    set_name: str
    question: EvalQuestion
    profile: QuestionProfile
    latent: LatentTerms  # the question's
    candidates: Candidates
    labels: Vector  # per candidate: holds an acceptable answer
    foreign: bool  # written in another language than the corpus's
    by_chunk: dict[str, tuple[IndexedSentence, ...]]
    statistics: CorpusStatistics


def _contains(text: str, answers: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(answer.lower() in lowered for answer in answers)


def retrieve(
    set_name: str, cache: Path, reader: QuestionReader, questions_file: Path | None = None
) -> Retrieved:
    sources, default_questions = SETS[set_name]
    questions_file = questions_file or default_questions
    settings = load_settings(sources_dir=sources, data_dir=cache / set_name)
    indexes = open_live_indexes(settings)
    try:
        indexes.ensure()
        live = indexes.current()
        # The pickle holds our dataclasses and sentences termed by text.py: a change to either
        # makes it stale. It is used only for the same questions, read the same way.
        layout_files = [REPO / "retrieval" / name for name in ("models.py", "text.py")]
        layout = hashlib.sha256(b"".join(p.read_bytes() for p in layout_files)).hexdigest()
        pickled = f"{questions_file.stem}-v{live.manifest.version}-{layout[:8]}.pickle"
        saved = cache / set_name / pickled
        questions = load_questions(questions_file)
        # As the answer service reads them.
        reads = [reader.read(question.question, live.statistics) for question in questions]
        if saved.exists():
            # A plain tuple: a pickled Retrieved would name this module as run (`__main__`).
            retrieved = Retrieved(*pickle.loads(saved.read_bytes()))  # noqa: S301 (our own file)
            kept = [(question, read) for question, read, *_ in retrieved.questions]
            if kept == list(zip(questions, reads, strict=True)):
                return retrieved
        rows = []
        for question, read in zip(questions, reads, strict=True):
            vector, latent = indexes.embedder.embed_question_and_terms(read.text)
            hits = live.searcher.search(read.text, vector, settings.top_k)
            rows.append((question, read, vector, latent.result(), hits))
    finally:
        indexes.close()
    retrieved = Retrieved(corpus_statistics(live.all_sentences()), live.sentences, rows)
    saved.write_bytes(
        pickle.dumps((retrieved.statistics, retrieved.by_chunk, retrieved.questions))
    )
    return retrieved


def collect(set_name: str, retrieved: Retrieved) -> list[Example]:
    statistics = retrieved.statistics
    examples = []
    for question, read, vector, latent, hits in retrieved.questions:
        profile = profile_question(read.text, statistics.idf, statistics.unseen_idf)
        candidates = candidate_features(
            profile, vector, hits, retrieved.by_chunk, statistics.background
        )
        labels = np.asarray(
            [
                (not question.unanswerable) and _contains(s.text, question.answer_any)
                for s in candidates.sentences
            ],
            dtype=np.float64,
        )
        foreign = not read.in_corpus_language
        examples.append(
            Example(
                set_name,
                question,
                profile,
                latent,
                candidates,
                labels,
                foreign,
                retrieved.by_chunk,
                statistics,
            )
        )
    return examples


def untrained_models() -> AnswerModels:
    """Zero weights: a start for the fit, which replaces each part."""

    def zero(features: tuple[str, ...]) -> LogisticModel:
        count = len(features)
        return LogisticModel(features, (0.0,) * count, 0.0, (0.0,) * count, (1.0,) * count)

    return AnswerModels(
        zero(SENTENCE_FEATURES),
        zero(ANSWERABILITY_FEATURES),
        zero(FOREIGN_FEATURES),
        continue_probability=0.5,
        kind_probability=1.01,
        nearest_probability=1.01,
        answer_threshold=0.5,
        closest_threshold=0.25,
        foreign_answer_threshold=0.5,
    )


def set_weights(set_names: Sequence[str]) -> Vector:
    """Each question's weight in a fit over questions, from the name of its set: each set
    counts as much as any other, whatever its size (the mean weight is 1)."""
    per_set = Counter(set_names)
    weights = np.asarray([1.0 / per_set[name] for name in set_names])
    return weights / weights.mean()


def fit_sentences(examples: list[Example]) -> LogisticModel:
    """Which candidate holds the answer, over the answerable questions that have one; each
    question counts as much as any other of its set, and each set as much as any other."""
    usable = [e for e in examples if not e.question.unanswerable and e.labels.any()]
    weights = np.concatenate(
        [
            np.full(len(e.labels), w / len(e.labels))
            for e, w in zip(usable, set_weights([e.set_name for e in usable]), strict=True)
        ]
    )
    return fit_logistic(
        SENTENCE_FEATURES,
        np.vstack([e.candidates.features for e in usable]),
        np.concatenate([e.labels for e in usable]),
        weights / weights.mean(),
    )


def evidence_rows(
    examples: list[Example], models: AnswerModels, without: frozenset[str] = frozenset()
) -> tuple[Vector, Vector]:
    """Each question's answerability features, and whether its evidence holds the answer.
    The features named in `without` are held at 0, so a fit cannot use them (an ablation)."""
    rows, right = [], []
    for example in examples:
        candidates = example.candidates
        if not candidates.sentences:
            rows.append(np.zeros(len(ANSWERABILITY_FEATURES)))
            right.append(False)
            continue
        scores = models.score(candidates, example.foreign)
        evidence = models.compose(candidates, scores, example.by_chunk)
        rows.append(
            answerability_row(
                example.profile,
                example.latent,
                candidates,
                scores,
                evidence,
                example.statistics,
            )
        )
        text = " ".join(s.text for s in evidence)
        answer_any = example.question.answer_any
        right.append(not example.question.unanswerable and _contains(text, answer_any))
    matrix = np.vstack(rows)
    matrix[:, [ANSWERABILITY_FEATURES.index(name) for name in sorted(without)]] = 0.0
    return matrix, np.asarray(right, dtype=np.float64)


def confidences(models: AnswerModels, examples: list[Example], rows: Vector) -> Vector:
    """Each question's confidence, from its row of `evidence_rows`; a question in another
    language is judged by its vector features, as the pipeline judges it."""
    return np.asarray(
        [
            models.confidence(foreign_row(e.candidates, e.statistics), foreign=True)
            if e.foreign and e.candidates.sentences
            else models.confidence(row)
            for row, e in zip(rows, examples, strict=True)
        ]
    )


def outcomes(
    examples: list[Example], answered: np.ndarray, right: Vector
) -> dict[str, float | None]:
    """The strict scorer's numbers: an answer counts when its evidence holds an acceptable
    answer, a decline when the question is unanswerable."""
    unanswerable = np.asarray([e.question.unanswerable for e in examples], dtype=bool)
    answered_correct = int((answered & (right > 0)).sum())
    declined_correct = int((~answered & unanswerable).sum())
    declines = int((~answered).sum())
    return {
        "answerable": int((~unanswerable).sum()),
        "answered_correct": answered_correct,
        "unanswerable": int(unanswerable.sum()),
        "declined_correct": declined_correct,
        "decline_precision": round(declined_correct / declines, 3) if declines else None,
        "overall": round((answered_correct + declined_correct) / len(examples), 3),
    }


def separation(examples: list[Example], confidence: Vector) -> float | None:
    """The AUC of the confidence for telling answerable questions from unanswerable ones:
    the chance that a random answerable question gets more than a random unanswerable one."""
    answerable = np.asarray([not e.question.unanswerable for e in examples], dtype=bool)
    above, below = confidence[answerable], confidence[~answerable]
    if not len(above) or not len(below):
        return None
    wins = (above[:, None] > below[None, :]).mean() + 0.5 * (
        above[:, None] == below[None, :]
    ).mean()
    return round(float(wins), 3)


def _by_set(examples: list[Example]) -> list[list[int]]:
    names = dict.fromkeys(e.set_name for e in examples)
    return [[i for i, e in enumerate(examples) if e.set_name == name] for name in names]


def decline_precision(
    examples: list[Example], confidence: Vector, right: Vector, threshold: float
) -> float:
    """The mean over the sets of the decline precision at a threshold (1.0 for a set where
    nothing is declined)."""
    values = []
    for index in _by_set(examples):
        result = outcomes(
            [examples[i] for i in index], confidence[index] >= threshold, right[index]
        )
        precision = result["decline_precision"]
        values.append(1.0 if precision is None else float(precision))
    return float(np.mean(values))


def mean_overall(
    examples: list[Example], confidence: Vector, right: Vector, threshold: float
) -> float:
    return float(
        np.mean(
            [
                outcomes(
                    [examples[i] for i in index], confidence[index] >= threshold, right[index]
                )["overall"]
                for index in _by_set(examples)
            ]
        )
    )


def choose_threshold(
    examples: list[Example], confidence: Vector, right: Vector, target: float
) -> float:
    """The highest threshold (the most declines) whose decline precision still reaches the
    target; else the most precise one."""
    precision = {t: decline_precision(examples, confidence, right, t) for t in THRESHOLD_GRID}
    meeting = [t for t in THRESHOLD_GRID if precision[t] >= target]
    return max(meeting) if meeting else max(THRESHOLD_GRID, key=lambda t: precision[t])


def fit(tune: list[Example], target: float, without: frozenset[str]) -> AnswerModels:
    sentence = fit_sentences(tune)
    weights = set_weights([e.set_name for e in tune])
    best: tuple[float, AnswerModels] | None = None
    for continue_probability, kind_probability, nearest_probability in itertools.product(
        CONTINUE_GRID, KIND_GRID, NEAREST_GRID
    ):
        trial = replace(
            untrained_models(),
            sentence=sentence,
            continue_probability=continue_probability,
            kind_probability=kind_probability,
            nearest_probability=nearest_probability,
        )
        rows, right = evidence_rows(tune, trial, without)
        answerability = fit_logistic(ANSWERABILITY_FEATURES, rows, right, weights)
        trial = replace(trial, answerability=answerability)
        confidence = confidences(trial, tune, rows)
        threshold = choose_threshold(tune, confidence, right, target)
        score = mean_overall(tune, confidence, right, threshold)
        print(
            f"continue at {continue_probability}, wanted kind at {kind_probability}, "
            f"nearest at {nearest_probability}: "
            f"threshold {threshold}, tune {score:.3f}"
        )
        if best is None or score > best[0]:
            # Below the threshold, the surer half gets "the closest passage".
            chosen = replace(trial, answer_threshold=threshold, closest_threshold=threshold / 2)
            best = (score, chosen)
    assert best is not None
    return best[1]


def fit_foreign(
    tune: list[Example], foreign_tune: list[Example], models: AnswerModels, target: float
) -> AnswerModels:
    """The model for questions in other languages, which have no word evidence: fitted over
    the vector features of the tuning questions (their labels are many), its threshold chosen
    on the tuning half of the questions in other languages."""
    usable = [e for e in tune if e.candidates.sentences]
    _, right = evidence_rows(usable, models)
    rows = np.vstack([foreign_row(e.candidates, e.statistics) for e in usable])
    foreign = fit_logistic(
        FOREIGN_FEATURES, rows, right, set_weights([e.set_name for e in usable])
    )
    models = replace(models, foreign_answerability=foreign)
    rows, right = evidence_rows(foreign_tune, models)
    confidence = confidences(models, foreign_tune, rows)
    threshold = choose_threshold(foreign_tune, confidence, right, target)
    return replace(models, foreign_answer_threshold=threshold)


def decide(
    examples: list[Example], models: AnswerModels, without: frozenset[str] = frozenset()
) -> tuple[list[Outcome], Vector, Vector]:
    """Each question's outcome as the models decide it, its confidence, and whether its
    evidence holds the answer."""
    rows, right = evidence_rows(examples, models, without)
    confidence = confidences(models, examples, rows)
    decided = [models.outcome(c, e.foreign) for c, e in zip(confidence, examples, strict=True)]
    return decided, confidence, right


def scored(
    examples: list[Example], models: AnswerModels, without: frozenset[str] = frozenset()
) -> dict[str, float | None]:
    """The strict scorer's numbers for these questions as the models decide them, with the
    AUC of their confidence."""
    decided, confidence, right = decide(examples, models, without)
    answered = np.asarray([outcome is Outcome.ANSWERED for outcome in decided])
    return {**outcomes(examples, answered, right), "auc": separation(examples, confidence)}


_LONG_WORD = re.compile(r"[A-Za-z]{6,}")


def one_misspelling(question: str) -> str:
    """The question with its longest word of six letters or more (the first, of equals)
    missing its middle letter: the commonest slip, in the word that matters most."""
    found = list(_LONG_WORD.finditer(question))
    if not found:
        return question
    longest = max(found, key=lambda match: (len(match.group(0)), -match.start()))
    word = longest.group(0)
    middle = len(word) // 2
    return (
        question[: longest.start()]
        + word[:middle]
        + word[middle + 1 :]
        + question[longest.end() :]
    )


# How some people type a question, for the checks: each is a set's questions rewritten.
TYPED_FORMS = {"in capitals": str.upper, "with one misspelling": one_misspelling}


def typed_as(set_name: str, cache: Path, form: str) -> Path:
    """The set's questions typed in one of TYPED_FORMS, for a check: written beside the set's
    index, each line keeping its half."""
    _, questions_file = SETS[set_name]
    rewrite = TYPED_FORMS[form]
    lines = [
        json.dumps(
            {
                "question": rewrite(question.question),
                "answer_any": list(question.answer_any),
                "unanswerable": question.unanswerable,
                "id": question.key,
                "doc": question.doc,
            },
            ensure_ascii=False,
        )
        for question in load_questions(questions_file)
    ]
    path = cache / set_name / f"{questions_file.stem}-{form.replace(' ', '-')}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def report_check(
    label: str, examples: list[Example], models: AnswerModels, without: frozenset[str]
) -> None:
    """How questions that none of the models was fitted on fare: none of them is answerable."""
    decided, _, _ = decide(examples, models, without)
    print(
        f"check    {label}: {decided.count(Outcome.NOT_COVERED)} not covered, "
        f"{decided.count(Outcome.CLOSEST)} closest passage, "
        f"{decided.count(Outcome.ANSWERED)} answered, of {len(examples)} (never fitted on)"
    )


PLOT = REPO / "docs/answer-threshold.png"


def plot(examples: list[Example], models: AnswerModels) -> None:
    """Answered correctly against decline precision as the threshold moves, on the held-out
    halves, with the chosen threshold marked."""
    import matplotlib  # noqa: PLC0415 (only the fit draws)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    figure, axes = pyplot.subplots(figsize=(7, 4.5), dpi=110)
    for name in SETS:
        part = [e for e in examples if e.set_name == name and e.question.half == "heldout"]
        rows, right = evidence_rows(part, models)
        confidence = confidences(models, part, rows)
        answerable = sum(not e.question.unanswerable for e in part)
        points = []
        for threshold in THRESHOLD_GRID:
            precision = outcomes(part, confidence >= threshold, right)["decline_precision"]
            if precision is not None:
                answered = float(((confidence >= threshold) & (right > 0)).sum()) / answerable
                points.append((threshold, precision, answered))
        line = axes.plot([p[1] for p in points], [p[2] for p in points], label=name)[0]
        chosen = min(points, key=lambda p: abs(p[0] - models.answer_threshold))
        axes.plot(chosen[1], chosen[2], "o", color=line.get_color(), markersize=9)
    axes.set_xlabel("decline precision (declined unanswerable / all declines)")
    axes.set_ylabel("answerable questions answered correctly")
    axes.set_title(
        f"Held-out halves, threshold 0.02-0.95; dots: the chosen {models.answer_threshold}"
    )
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(PLOT)
    print(f"wrote {PLOT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=REPO / ".data/fit")
    parser.add_argument("--target-precision", type=float, default=0.8)
    parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
    parser.add_argument(
        "--without",
        nargs="+",
        default=[],
        choices=ANSWERABILITY_FEATURES,
        metavar="FEATURE",
        help="fit the answerability model without these features and report (implies --dry-run)",
    )
    args = parser.parse_args()
    without = frozenset(args.without)
    started = time.perf_counter()
    reader = QuestionReader(english_words())
    examples = [e for name in SETS for e in collect(name, retrieve(name, args.cache, reader))]
    tune = [e for e in examples if e.question.half == "tune"]
    models = fit(tune, args.target_precision, without)
    foreign = collect("seed", retrieve("seed", args.cache, reader, MULTILINGUAL))
    for example in foreign:
        example.set_name = "other languages"
    foreign_tune = [e for e in foreign if e.question.half == "tune"]
    models = fit_foreign(tune, foreign_tune, models, args.target_precision)
    for half in HALVES:
        for name in [*SETS, "other languages"]:
            part = [
                e for e in examples + foreign if e.set_name == name and e.question.half == half
            ]
            print(f"{half:8} {name:16} {json.dumps(scored(part, models, without))}")
    for form in TYPED_FORMS:
        for name in SETS:
            typed = collect(
                name, retrieve(name, args.cache, reader, typed_as(name, args.cache, form))
            )
            part = [e for e in typed if e.question.half == "heldout"]
            print(f"check    {name} held-out, {form}: {json.dumps(scored(part, models, without))}")
    for name, checks in CHECKS.items():
        for label, check_file in checks.items():
            checked = collect(name, retrieve(name, args.cache, reader, check_file))
            print(
                f"check    {name} {label}, whole: {json.dumps(scored(checked, models, without))}"
            )
    for label, set_name, check_file in [
        ("off-topic, other languages", "seed", OFFTOPIC_MULTILINGUAL),
        ("small talk, seed", "seed", SMALL_TALK),
        ("small talk, news", "news", SMALL_TALK),
    ]:
        checked = collect(set_name, retrieve(set_name, args.cache, reader, check_file))
        report_check(label, checked, models, without)
    print(f"{time.perf_counter() - started:.0f} s")
    if args.dry_run or without:
        return
    data = {
        "about": (
            "Fitted by `python -m bench.fit_answerer` on the tuning halves of the seed, news "
            "and SQuAD dev sets and of the seed questions in other languages, "
            f"{datetime.now(UTC).date().isoformat()}; decline precision target "
            f"{args.target_precision}. Do not edit by hand."
        ),
        "continue_probability": models.continue_probability,
        "kind_probability": models.kind_probability,
        "nearest_probability": models.nearest_probability,
        "answer_threshold": models.answer_threshold,
        "closest_threshold": models.closest_threshold,
        "foreign_answer_threshold": models.foreign_answer_threshold,
        "sentence": models.sentence.to_json(),
        "answerability": models.answerability.to_json(),
        "foreign_answerability": models.foreign_answerability.to_json(),
    }
    WEIGHTS_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {WEIGHTS_FILE}")
    plot(examples, models)


if __name__ == "__main__":
    main()
