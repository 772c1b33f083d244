"""The claim checks on an LLM answer (retrieval/answer/grounding.py), sentence by sentence, on
invented articles indexed as ingest would (no model, no server)."""

from __future__ import annotations

import pytest

from retrieval.answer.grounding import (
    ECHO,
    FRAGMENT,
    LITERAL,
    NAME,
    NEGATION,
    NUMBER,
    QUOTE,
    REPEAT,
    TRUNCATED,
    UNCITED,
    UNSUPPORTED,
    Grounding,
    ground,
    is_fragment,
)
from retrieval.index.sentences import corpus_statistics
from retrieval.llm.prompts import load_prompts
from retrieval.models import CorpusStatistics, Passage
from tests.conftest import REPO
from tests.fakes.embedder import FakeCorpus
from tests.retrieval.llm.claims import BRIDGE, HARBOUR

PROMPTS = load_prompts(REPO / "prompts").texts()


@pytest.fixture(scope="module")
def indexed() -> tuple[list[Passage], CorpusStatistics]:
    corpus = FakeCorpus.of({"bridge.md": BRIDGE, "harbour.md": HARBOUR})
    return list(corpus.passages), corpus_statistics(corpus.all_sentences())


def check(
    text: str, indexed: tuple[list[Passage], CorpusStatistics], **options: bool
) -> Grounding:
    passages, statistics = indexed
    return ground(text, passages, statistics=statistics, prompts=PROMPTS, **options)


def number_of(needle: str, indexed: tuple[list[Passage], CorpusStatistics]) -> int:
    """The [n] of the passage holding `needle`, as the model would cite it."""
    return next(i for i, p in enumerate(indexed[0], start=1) if needle in p.text)


def test_a_supported_paraphrase_is_kept(indexed: tuple[list[Passage], CorpusStatistics]) -> None:
    n = number_of("another 12 million", indexed)
    grounding = check(
        f"Norhaven's council voted on Tuesday to spend another 12 million euros on the "
        f"Riverside bridge [{n}].",
        indexed,
    )
    assert [s.text for s in grounding.sentences] == [
        "Norhaven's council voted on Tuesday to spend another 12 million euros on the "
        "Riverside bridge."
    ]
    assert grounding.sentences[0].passages == (n - 1,)
    assert grounding.dropped == 0


@pytest.mark.parametrize(
    ("markers", "cited"),
    [
        ("[1, 2]", [(0, 1)]),
        ("[1,2]", [(0, 1)]),
        ("[1][2]", [(0, 1)]),
        ("[1-2]", [(0, 1)]),
        ("[2]", []),  # passage 2 does not say it
    ],
)
def test_marker_lists_and_ranges_cite_each_passage(
    indexed: tuple[list[Passage], CorpusStatistics],
    markers: str,
    cited: list[tuple[int, ...]],
) -> None:
    passages = indexed[0][:2]  # both about the bridge; the claim is in the first
    claim = f"The city council of Norhaven voted to spend another 12 million euros {markers}."
    grounding = ground(claim, passages, statistics=indexed[1])
    assert [s.passages for s in grounding.sentences] == cited


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        (". [1]", FRAGMENT),
        ("Bridge [1].", FRAGMENT),
        ("Riverside Bridge Costs [1].", FRAGMENT),  # a heading
        ("<<<QUESTION How much does the bridge cost? QUESTION>>> [1]", ECHO),
        ("PASSAGE 1>>> The bridge costs 12 million euros [1].", ECHO),
        ("User: How much? Assistant: The council voted to spend more [1].", ECHO),
        ("Use only facts stated in the passages and never guess [1].", ECHO),
        ("The council voted on Tuesday to spend another 12 million euros.", UNCITED),
        ("The council voted to spend another 12 million euros [7].", UNCITED),
    ],
)
def test_fragments_echoes_and_uncited_sentences_never_ship(
    indexed: tuple[list[Passage], CorpusStatistics], sentence: str, reason: str
) -> None:
    grounding = check(sentence, indexed)
    assert grounding.sentences == ()
    assert set(grounding.reasons) == {reason}


def test_a_repeated_sentence_ships_once(indexed: tuple[list[Passage], CorpusStatistics]) -> None:
    claim = "The city council of Norhaven voted to spend another 12 million euros [1]."
    grounding = check(f"{claim} {claim} {claim.replace('voted', 'has voted')}", indexed)
    assert len(grounding.sentences) == 1
    assert grounding.reasons == {REPEAT: 2}


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        # Each is cited [1], the passage that says what the first claim says.
        ("The council voted to spend another 21 million euros on the bridge [1].", NUMBER),
        ("The council voted to spend another seven million euros on the bridge [1].", NUMBER),
        ("The full budget is at https://norhaven.example.com/budget [2].", LITERAL),
        ("Questions go to press@norhaven.example.org about the bridge [1].", LITERAL),
        ("The council posts updates on the bridge as @NorhavenCity [1].", LITERAL),
        ('Mayor Ingrid Solberg called the bridge "a triumph of planning" [1].', QUOTE),
        ("Mayor Erik Lund said the extra money would cover higher steel prices [1].", NAME),
        ("Mayor Tomas Varga said the extra money would cover higher steel prices [1].", NAME),
        ("Mayor Ingrid Solberg said the extra money would not cover steel prices [1].", NEGATION),
        (
            "Mayor Ingrid Solberg said the money would build a new harbour for ferries [1].",
            UNSUPPORTED,
        ),
    ],
)
def test_hostile_claims_with_a_valid_citation_are_removed(
    indexed: tuple[list[Passage], CorpusStatistics], claim: str, reason: str
) -> None:
    grounding = check(claim, indexed)
    assert grounding.sentences == ()
    assert grounding.reasons == {reason: 1}


def test_urls_addresses_and_quotes_from_the_passage_are_kept(
    indexed: tuple[list[Passage], CorpusStatistics],
) -> None:
    budget, harbour = number_of("norhaven.example.org", indexed), number_of("@Eldmoor", indexed)
    grounding = check(
        f"The full budget is published at https://norhaven.example.org/budget [{budget}]. "
        f"The port operator posts updates as @EldmoorPort [{harbour}]. "
        f'Tomas Varga called the project "a symbol of poor planning" [1].',
        indexed,
    )
    assert len(grounding.sentences) == 3, grounding.reasons


def test_a_reply_cut_off_at_max_tokens_loses_its_unfinished_sentence(
    indexed: tuple[list[Passage], CorpusStatistics],
) -> None:
    text = (
        "The city council of Norhaven voted to spend another 12 million euros [1]. "
        "Mayor Ingrid Solberg said the extra money would"
    )
    grounding = check(text, indexed, truncated=True)
    assert len(grounding.sentences) == 1
    assert grounding.reasons == {TRUNCATED: 1}
    finished = check(text.split(" Mayor")[0], indexed, truncated=True)
    assert finished.reasons == {}  # a reply cut right after a full stop loses nothing


def test_while_streaming_the_sentence_being_written_is_not_judged(
    indexed: tuple[list[Passage], CorpusStatistics],
) -> None:
    first = "The city council of Norhaven voted to spend another 12 million euros [1]."
    assert check(f"{first} Mayor Ingrid", indexed, partial=True).dropped == 0
    assert len(check(f"{first} Mayor Ingrid", indexed, partial=True).sentences) == 1
    assert check("The city council of Norhaven voted", indexed, partial=True).sentences == ()
    assert len(check(first, indexed, partial=True).sentences) == 1  # full stop and citation


def test_a_claim_joining_a_pronoun_to_the_name_before_it_is_kept(
    indexed: tuple[list[Passage], CorpusStatistics],
) -> None:
    n = number_of("Paul Ashdown", indexed)
    grounding = check(
        f"Paul Ashdown, a mediator, led the negotiations and had settled a rail dispute in "
        f"2019 [{n}].",
        indexed,
    )
    assert len(grounding.sentences) == 1, grounding.reasons


def test_an_answer_in_another_language_keeps_the_checks_that_hold_across_languages(
    indexed: tuple[list[Passage], CorpusStatistics],
) -> None:
    grounding = check(
        "Der Stadtrat hat weitere 12 Millionen Euro für die Brücke bewilligt [1]. "
        "Der Stadtrat hat weitere 99 Millionen Euro für die Brücke bewilligt [1].",
        indexed,
    )
    assert [s.text for s in grounding.sentences] == [
        "Der Stadtrat hat weitere 12 Millionen Euro für die Brücke bewilligt."
    ]
    assert grounding.reasons == {NUMBER: 1}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("The council voted.", False),
        ("About 2,500 troops.", False),  # short, but a claim
        ("U.S. Forces in Iraq.", True),
        ("The leader of the militia group to be killed.", True),  # SmolLM2's, seen for real
        ("Sudani wants the troops to leave.", False),
        ("Sources: ,", True),
        ("...", True),
        ("Около 2500 американских военных находятся в Ираке.", False),
        ("美国在伊拉克有驻军。", False),
    ],
)
def test_what_counts_as_a_fragment(text: str, fragment: bool) -> None:
    assert is_fragment(text) is fragment
