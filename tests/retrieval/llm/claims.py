"""Labelled claims for calibrating the claim check of LLM answers (retrieval/answer/grounding.py).

Each case names a document and a few words of the sentence a claim is about; the passage that
holds those words is the one the claim cites. Its `supported` claims are close paraphrases of
what the passage says, as a model answering a question writes them (shortened, reordered,
attributed); its perturbed claims say something the passage does not:

* entity: a person, place or organisation swapped for another (from the corpus or invented);
* negation: a negation added, or the passage's negation dropped;
* number: a number changed;
* clause: a supported claim with an invented clause added.

The documents: the seed article and three invented ones. Every case belongs to the tuning or the
held-out half by a hash of its source words (`retrieval.evaluation.half_of`); the threshold is
chosen on the tuning half and reported on both (`calibrate_claims.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.conftest import SEED


def _document(*paragraphs: str) -> str:
    """An article: its paragraphs (each written over several lines here), blank-line apart."""
    return "\n\n".join(paragraphs) + "\n"


BRIDGE = _document(
    "# Riverside bridge costs rise again",
    (
        "The city council of Norhaven voted on Tuesday to spend another 12 million euros on the"
        " Riverside bridge. The bridge was first budgeted at 40 million euros in 2021. Mayor "
        "Ingrid Solberg said the extra money would cover higher steel prices and a longer "
        "foundation. The opposition leader, Tomas Varga, called the project a symbol of poor "
        "planning."
    ),
    (
        "Construction firm Baltec Works expects to finish the deck by October 2026. Cyclists "
        "will get a separate lane on the north side of the bridge. The old ferry will keep "
        "running until the bridge opens. An auditor's report found that the design changed four"
        " times before work began. The full budget is published at "
        "https://norhaven.example.org/budget."
    ),
    "## Traffic",
    (
        "Engineers estimate that 18,000 vehicles will cross the bridge every day. Trucks "
        "heavier than 40 tonnes will not be allowed on it. The council plans a toll of 2 euros "
        "for cars during the first five years. Residents of the old town fear more traffic on "
        "Harbour Street."
    ),
)

VACCINE = _document(
    "# Malaria vaccine trial reports early results",
    (
        "The Kestrel Institute in Nairobi said on Monday that its experimental malaria vaccine,"
        " KV-7, cut infections by 61 percent in a trial of 3,200 children. The children were "
        "aged between five months and three years. Dr. Amina Wekesa, who led the trial, said "
        "the results were encouraging but not final."
    ),
    (
        "Side effects were mostly mild, such as fever and a sore arm. The vaccine needs three "
        "doses given one month apart. A larger trial in Uganda and Malawi is planned for next "
        "year."
    ),
    (
        "The World Health Organization has not yet reviewed the data. Funding came from the "
        "Hollis Foundation, which gave 25 million dollars. Questions can be sent to "
        "trials@kestrel.example.org."
    ),
)

HARBOUR = _document(
    "# Dock workers end strike at Port Eldmoor",
    (
        "Dock workers at Port Eldmoor returned to work on Friday after a strike that lasted "
        "nine days. The union, Dockers United, accepted a pay rise of 7 percent over two years."
        " Union leader Marta Quell said members had voted 812 to 203 in favour of the deal."
    ),
    (
        "The port operator, Eldmoor Terminals, said the strike had delayed 46 ships. Shipping "
        "companies diverted some cargo to the port of Vantry. The government did not take part "
        "in the talks."
    ),
    (
        "Negotiations were led by a mediator, Paul Ashdown, who had settled a rail dispute in "
        "2019. Container traffic is expected to return to normal within two weeks. The operator"
        " posts updates as @EldmoorPort."
    ),
)

DOCUMENTS: dict[str, str] = {
    SEED.name: SEED.read_text(encoding="utf-8"),
    "bridge.md": BRIDGE,
    "vaccine.md": VACCINE,
    "harbour.md": HARBOUR,
}


@dataclass(frozen=True)
class Case:
    doc: str
    source: str  # words of the passage the claims cite
    supported: tuple[str, ...]
    perturbed: dict[str, str] = field(default_factory=dict)  # kind: claim


S = SEED.name
CASES: tuple[Case, ...] = (
    # -- the seed article ------------------------------------------------------------------
    Case(
        S,
        "destabilizing impact",
        (
            "The Israel-Hamas war in Gaza is destabilizing the wider region.",
            "As fighting continues in Gaza, the conflict is having a destabilizing impact on "
            "the region.",
        ),
        {
            "entity": "The war between Israel and Hezbollah in Gaza is destabilizing the region.",
            "negation": "The conflict in Gaza is not having a destabilizing impact on the region.",
            "clause": "The conflict in Gaza is destabilizing the region, and a ceasefire is "
            "expected next month.",
        },
    ),
    Case(
        S,
        "shipping in the Red Sea",
        (
            "The conflict affects Iraq and Syria, where the U.S. military has forces.",
            "Lebanon, Yemen, Iran and shipping in the Red Sea are also affected.",
        ),
        {
            "entity": "The conflict affects Iraq and Jordan, where the U.S. military has forces.",
            "negation": "The conflict does not affect Iraq and Syria, where the U.S. military "
            "has forces.",
            "clause": "Shipping in the Red Sea is affected, and insurers have doubled their "
            "prices.",
        },
    ),
    Case(
        S,
        "ready for the 2,500 U.S. troops",
        (
            "Iraqi Prime Minister Mohammed Shia al-Sudani is ready for the 2,500 U.S. troops "
            "to go home.",
            "Sudani has made clear to the U.S. government that the 2,500 U.S. troops stationed "
            "in Iraq can go home.",
            "About 2,500 U.S. troops are stationed in Iraq.",
        ),
        {
            "entity": "Iraqi President Abdul Latif Rashid is ready for the 2,500 U.S. troops to "
            "go home.",
            "negation": "Sudani is not ready for the 2,500 U.S. troops stationed in Iraq to go "
            "home.",
            "number": "About 5,200 U.S. troops are stationed in Iraq.",
            "clause": "Sudani is ready for the 2,500 U.S. troops to go home and has offered to "
            "pay for their flights.",
        },
    ),
    Case(
        S,
        "bilateral committee",
        (
            "The prime minister's office said the government started setting the date for a "
            "bilateral committee on ending the coalition's presence in Iraq.",
            "According to Reuters, the government began arranging an end to the presence of "
            "the international coalition forces in Iraq.",
        ),
        {
            "entity": "According to the Associated Press, the government began arranging an end "
            "to the presence of coalition forces in Iraq.",
            "negation": "The government has not started setting a date for the bilateral "
            "committee.",
            "clause": "The government started setting the date for the bilateral committee, "
            "which will meet in Geneva.",
        },
    ),
    Case(
        S,
        "We stress our firm position",
        (
            "Sudani said Iraq's firm position is to end the existence of the international "
            "coalition.",
            "Sudani stressed that the justifications for the coalition's existence have ended.",
        ),
        {
            "entity": "Biden said Iraq's firm position is to end the existence of the "
            "international coalition.",
            "negation": "Sudani said the justifications for the coalition's existence have not "
            "ended.",
            "clause": "Sudani stressed that the coalition must end, because its soldiers had "
            "broken local laws.",
        },
    ),
    Case(
        S,
        "precision strike on his vehicle",
        (
            "The U.S. military killed a militia leader in Baghdad with a precision strike on "
            "his vehicle.",
            "The announcement came a day after a U.S. strike killed a militia leader in Baghdad.",
        ),
        {
            "entity": "The U.S. military killed a militia leader in Basra with a precision "
            "strike on his vehicle.",
            "negation": "The U.S. military did not kill the militia leader in Baghdad.",
            "clause": "The U.S. military killed a militia leader in Baghdad with a precision "
            "strike, and two civilians also died.",
        },
    ),
    Case(
        S,
        "Abu Taqwa",
        (
            "The leader killed was Mushtaq Jawad Kazim al-Jawari, also known as Abu Taqwa.",
            "Air and Space Forces Magazine reported that the man killed was Abu Taqwa.",
        ),
        {
            "entity": "The leader killed was Qais al-Khazali, also known as Abu Taqwa.",
            "negation": "The leader killed was not Mushtaq Jawad Kazim al-Jawari.",
            "clause": "The leader killed was Abu Taqwa, who had commanded the militia for ten "
            "years.",
        },
    ),
    Case(
        S,
        "legitimate part of its security forces",
        (
            "Iraq reportedly considers the Iranian-aligned militia group a legitimate part of "
            "its security forces.",
        ),
        {
            "entity": "Syria reportedly considers the Iranian-aligned militia group a "
            "legitimate part of its security forces.",
            "negation": "Iraq does not consider the Iranian-aligned militia group a legitimate "
            "part of its security forces.",
            "clause": "Iraq considers the militia group a legitimate part of its security "
            "forces and pays its fighters a salary.",
        },
    ),
    Case(
        S,
        "broke an agreement",
        ("Iraq said the U.S. use of force broke an agreement it has with the U.S. government.",),
        {
            "entity": "Iran said the U.S. use of force broke an agreement it has with the U.S. "
            "government.",
            "negation": "Iraq said the U.S. use of force did not break its agreement with the "
            "U.S. government.",
            "clause": "Iraq said the U.S. use of force broke an agreement, and it recalled its "
            "ambassador from Washington.",
        },
    ),
    Case(
        S,
        "remnants of Daesh",
        (
            "U.S. troops are reportedly in Iraq to mentor Iraqi forces fighting the remnants "
            "of Daesh.",
        ),
        {
            "entity": "U.S. troops are reportedly in Iraq to mentor Kurdish forces fighting the "
            "remnants of al-Qaeda.",
            "negation": "U.S. troops are not in Iraq to mentor Iraqi forces.",
            "clause": "U.S. troops mentor Iraqi forces fighting Daesh and also guard the oil "
            "fields near Kirkuk.",
        },
    ),
    Case(
        S,
        "Justin Logan of the Cato Institute",
        (
            "Justin Logan of the Cato Institute suggests U.S. forces are mainly there to "
            "counter Iran's growing regional influence.",
            "According to Justin Logan, the real purpose of U.S. forces is to counter Iran's "
            "influence.",
        ),
        {
            "entity": "Justin Logan of the Heritage Foundation suggests U.S. forces are there to "
            "counter Iran's influence.",
            "negation": "Justin Logan says U.S. forces are not there to counter Iran's influence.",
            "clause": "Justin Logan suggests U.S. forces are there to counter Iran, and he "
            "wants them doubled.",
        },
    ),
    Case(
        S,
        "sitting ducks",
        (
            "Logan argued recently that U.S. forces are sitting ducks in the Middle East.",
            'He called U.S. forces in the Middle East "sitting ducks".',
        ),
        {
            "entity": "Logan argued recently that British forces are sitting ducks in the "
            "Middle East.",
            "negation": "Logan argued that U.S. forces are not sitting ducks in the Middle East.",
            "clause": "Logan argued that U.S. forces are sitting ducks and should move to "
            "ships in the Gulf.",
        },
    ),
    Case(
        S,
        "have come under fire",
        (
            "Since the Israel-Gaza conflict started, U.S. forces in Iraq and Syria have come "
            "under fire.",
        ),
        {
            "entity": "Since the conflict started, U.S. forces in Iraq and Turkey have come "
            "under fire.",
            "negation": "U.S. forces in Iraq and Syria have not come under fire since the "
            "conflict started.",
            "clause": "U.S. forces in Iraq and Syria have come under fire, mostly from drones "
            "launched in Lebanon.",
        },
    ),
    Case(
        S,
        "strike on January 4",
        (
            "The U.S. strike on January 4 was a response to attacks on U.S. forces by "
            "Iranian-aligned militia in Iraq.",
        ),
        {
            "entity": "The U.S. strike on January 4 was a response to attacks by Hezbollah in "
            "Lebanon.",
            "negation": "The U.S. strike on January 4 was not a response to attacks on U.S. "
            "forces.",
            "number": "The U.S. strike on January 9 was a response to attacks on U.S. forces.",
            "clause": "The U.S. strike on January 4 was a response to militia attacks and was "
            "approved by the Iraqi parliament.",
        },
    ),
    Case(
        S,
        "limited control",
        (
            "According to Reuters, Iraq's leader has limited control over the Iran-backed "
            "factions in his country.",
        ),
        {
            "entity": "According to Reuters, Syria's leader has limited control over the "
            "Iran-backed factions.",
            "negation": "According to Reuters, Iraq's leader has no control problems with the "
            "Iran-backed factions.",
            "clause": "Iraq's leader has limited control over the Iran-backed factions, which "
            "receive weapons through Jordan.",
        },
    ),
    Case(
        S,
        "President Biden has denied",
        (
            "President Biden has denied that the attacks on U.S. forces are a response to U.S. "
            "support for Israel.",
        ),
        {
            "entity": "President Trump has denied that the attacks on U.S. forces are a "
            "response to U.S. support for Israel.",
            "negation": "President Biden has said that the attacks on U.S. forces are a "
            "response to U.S. support for Israel.",
            "clause": "President Biden has denied that the attacks are a response to U.S. "
            "support for Israel and promised new sanctions.",
        },
    ),
    Case(
        S,
        "2003 U.S. war on Iraq",
        (
            "One outcome of the 2003 U.S. war on Iraq is that Iran gained greater influence in "
            "the region.",
            "After the 2003 war, Iran gained a role in the Iraqi governing coalition.",
        ),
        {
            "entity": "One outcome of the 2003 U.S. war on Iraq is that Saudi Arabia gained "
            "greater influence in the region.",
            "negation": "Iran did not gain greater influence in the region after the 2003 war "
            "on Iraq.",
            "number": "One outcome of the 1991 U.S. war on Iraq is that Iran gained greater "
            "influence.",
            "clause": "After the 2003 war, Iran gained influence in the region and built a "
            "military base near Basra.",
        },
    ),
    # -- the bridge ------------------------------------------------------------------------
    Case(
        "bridge.md",
        "another 12 million euros",
        (
            "Norhaven's city council voted on Tuesday to spend another 12 million euros on "
            "the Riverside bridge.",
            "The council approved an extra 12 million euros for the Riverside bridge.",
        ),
        {
            "entity": "Vantry's city council voted on Tuesday to spend another 12 million euros "
            "on the Riverside bridge.",
            "negation": "The city council did not vote to spend more on the Riverside bridge.",
            "number": "The council approved an extra 21 million euros for the Riverside bridge.",
            "clause": "The council approved an extra 12 million euros for the bridge after a "
            "public referendum.",
        },
    ),
    Case(
        "bridge.md",
        "first budgeted at 40 million",
        ("The bridge was originally budgeted at 40 million euros in 2021.",),
        {
            "number": "The bridge was originally budgeted at 30 million euros in 2021.",
            "clause": "The bridge was first budgeted at 40 million euros in 2021 by the previous "
            "mayor.",
        },
    ),
    Case(
        "bridge.md",
        "Mayor Ingrid Solberg",
        (
            "Mayor Ingrid Solberg said the extra money covers higher steel prices and a longer "
            "foundation.",
            "According to the mayor, the additional money will pay for steel prices and a "
            "longer foundation.",
        ),
        {
            "entity": "Mayor Tomas Varga said the extra money covers higher steel prices and a "
            "longer foundation.",
            "negation": "Mayor Ingrid Solberg said the extra money would not cover steel prices.",
            "clause": "Mayor Ingrid Solberg said the extra money covers steel prices and the "
            "salaries of new inspectors.",
        },
    ),
    Case(
        "bridge.md",
        "symbol of poor planning",
        ("Opposition leader Tomas Varga called the project a symbol of poor planning.",),
        {
            "entity": "Opposition leader Ingrid Solberg called the project a symbol of poor "
            "planning.",
            "negation": "Opposition leader Tomas Varga did not criticise the planning of the "
            "project.",
            "clause": "Tomas Varga called the project a symbol of poor planning and demanded the "
            "mayor's resignation.",
        },
    ),
    Case(
        "bridge.md",
        "Baltec Works",
        ("Baltec Works expects to finish the bridge deck by October 2026.",),
        {
            "entity": "Norcon Builders expects to finish the bridge deck by October 2026.",
            "negation": "Baltec Works does not expect to finish the deck by October 2026.",
            "number": "Baltec Works expects to finish the bridge deck by October 2027.",
            "clause": "Baltec Works expects to finish the deck by October 2026, using steel "
            "from Sweden.",
        },
    ),
    Case(
        "bridge.md",
        "separate lane",
        (
            "Cyclists will have their own lane on the north side of the bridge.",
            "The old ferry keeps running until the bridge opens.",
        ),
        {
            "negation": "The old ferry will not keep running until the bridge opens.",
            "clause": "Cyclists will get a separate lane on the north side, paid for by a "
            "national grant.",
        },
    ),
    Case(
        "bridge.md",
        "design changed four times",
        ("An auditor's report found the design changed four times before work began.",),
        {
            "negation": "An auditor's report found the design never changed before work began.",
            "number": "An auditor's report found the design changed seven times before work "
            "began.",
            "clause": "An auditor's report found the design changed four times, each time at "
            "the request of the mayor.",
        },
    ),
    Case(
        "bridge.md",
        "18,000 vehicles",
        ("Engineers expect about 18,000 vehicles to cross the bridge each day.",),
        {
            "number": "Engineers expect about 8,000 vehicles to cross the bridge each day.",
            "clause": "Engineers expect 18,000 vehicles a day, most of them commuters from "
            "Vantry.",
        },
    ),
    Case(
        "bridge.md",
        "heavier than 40 tonnes",
        (
            "Trucks heavier than 40 tonnes will not be allowed on the bridge.",
            "The council plans a 2 euro toll for cars for the first five years.",
        ),
        {
            "negation": "Trucks heavier than 40 tonnes will be allowed on the bridge.",
            "number": "The council plans a 5 euro toll for cars for the first five years.",
            "clause": "The council plans a toll of 2 euros for cars, and buses will pay double.",
        },
    ),
    Case(
        "bridge.md",
        "Harbour Street",
        ("Old town residents fear more traffic on Harbour Street.",),
        {
            "entity": "Old town residents fear more traffic on Mill Street.",
            "clause": "Old town residents fear more traffic on Harbour Street and have started "
            "a petition.",
        },
    ),
    # -- the vaccine -----------------------------------------------------------------------
    Case(
        "vaccine.md",
        "cut infections by 61 percent",
        (
            "The Kestrel Institute said its experimental malaria vaccine KV-7 cut infections by "
            "61 percent in a trial of 3,200 children.",
            "In a trial of 3,200 children, the KV-7 vaccine cut malaria infections by 61 percent.",
        ),
        {
            "entity": "The Pasteur Institute said its malaria vaccine cut infections by 61 "
            "percent in a trial of 3,200 children.",
            "negation": "The KV-7 vaccine did not cut malaria infections in the trial.",
            "number": "The KV-7 vaccine cut malaria infections by 76 percent in a trial of "
            "3,200 children.",
            "clause": "The KV-7 vaccine cut infections by 61 percent and will be sold for two "
            "dollars a dose.",
        },
    ),
    Case(
        "vaccine.md",
        "five months and three years",
        ("The children in the trial were between five months and three years old.",),
        {
            "clause": "The children were between five months and three years old and all lived "
            "in rural villages.",
        },
    ),
    Case(
        "vaccine.md",
        "Amina Wekesa",
        (
            "Dr. Amina Wekesa, who led the trial, said the results were encouraging but not "
            "final.",
            "The trial's leader called the results encouraging.",
        ),
        {
            "entity": "Dr. Sarah Okafor, who led the trial, said the results were encouraging.",
            "negation": "Dr. Amina Wekesa said the results were not encouraging.",
            "clause": "Dr. Amina Wekesa said the results were encouraging and that the vaccine "
            "would be approved soon.",
        },
    ),
    Case(
        "vaccine.md",
        "mostly mild",
        (
            "Side effects were mostly mild, such as fever or a sore arm.",
            "The vaccine is given in three doses one month apart.",
        ),
        {
            "negation": "Side effects were not mild.",
            "number": "The vaccine is given in two doses one month apart.",
            "clause": "Side effects were mostly mild, although one child was taken to hospital.",
        },
    ),
    Case(
        "vaccine.md",
        "Uganda and Malawi",
        ("A larger trial is planned in Uganda and Malawi next year.",),
        {
            "entity": "A larger trial is planned in Ghana and Malawi next year.",
            "negation": "No larger trial is planned in Uganda and Malawi.",
            "clause": "A larger trial is planned in Uganda and Malawi next year, with 20,000 "
            "children.",
        },
    ),
    Case(
        "vaccine.md",
        "not yet reviewed",
        ("The World Health Organization has not yet reviewed the data.",),
        {
            "entity": "The European Medicines Agency has not yet reviewed the data.",
            "negation": "The World Health Organization has already reviewed the data.",
            "clause": "The World Health Organization has not yet reviewed the data, which it "
            "called incomplete.",
        },
    ),
    Case(
        "vaccine.md",
        "Hollis Foundation",
        ("The Hollis Foundation funded the trial with 25 million dollars.",),
        {
            "entity": "The Gates Foundation funded the trial with 25 million dollars.",
            "number": "The Hollis Foundation funded the trial with 52 million dollars.",
            "clause": "The Hollis Foundation gave 25 million dollars and will pay for the "
            "larger trial too.",
        },
    ),
    # -- the harbour -----------------------------------------------------------------------
    Case(
        "harbour.md",
        "strike that lasted nine days",
        (
            "Dock workers at Port Eldmoor went back to work on Friday after a nine-day strike.",
            "The strike at Port Eldmoor lasted nine days.",
        ),
        {
            "entity": "Dock workers at Port Vantry went back to work on Friday after a nine-day "
            "strike.",
            "negation": "Dock workers at Port Eldmoor have not returned to work.",
            "clause": "Dock workers went back to work after a nine-day strike, which had cost "
            "the port 30 million euros.",
        },
    ),
    Case(
        "harbour.md",
        "pay rise of 7 percent",
        (
            "Dockers United accepted a 7 percent pay rise over two years.",
            "Marta Quell said members voted 812 to 203 in favour of the deal.",
        ),
        {
            "entity": "Harbour Workers Union accepted a 7 percent pay rise over two years.",
            "negation": "Dockers United did not accept the pay rise.",
            "number": "Dockers United accepted a 9 percent pay rise over two years.",
            "clause": "Dockers United accepted a 7 percent pay rise and a shorter working week.",
        },
    ),
    Case(
        "harbour.md",
        "delayed 46 ships",
        (
            "Eldmoor Terminals, the port operator, said the strike delayed 46 ships.",
            "Some cargo was diverted to the port of Vantry.",
            "The government took no part in the talks.",
        ),
        {
            "entity": "Some cargo was diverted to the port of Rotterdam.",
            "negation": "The government took part in the talks.",
            "number": "Eldmoor Terminals said the strike delayed 64 ships.",
            "clause": "The strike delayed 46 ships, and two shipping companies said they would "
            "leave the port for good.",
        },
    ),
    Case(
        "harbour.md",
        "Paul Ashdown",
        (
            "The talks were led by the mediator Paul Ashdown, who settled a rail dispute in 2019.",
            "Container traffic should be back to normal within two weeks.",
        ),
        {
            "entity": "The talks were led by the mediator Marta Quell, who settled a rail "
            "dispute in 2019.",
            "negation": "Container traffic will not return to normal within two weeks.",
            "number": "The mediator Paul Ashdown settled a rail dispute in 2017.",
            "clause": "The mediator Paul Ashdown, who settled a rail dispute in 2019, was "
            "appointed by the king.",
        },
    ),
)


@dataclass(frozen=True)
class Labelled:
    doc: str
    source: str
    claim: str
    supported: bool
    kind: str  # "paraphrase" or the perturbation


def labelled() -> list[Labelled]:
    items = []
    for case in CASES:
        items += [Labelled(case.doc, case.source, c, True, "paraphrase") for c in case.supported]
        items += [
            Labelled(case.doc, case.source, claim, False, kind)
            for kind, claim in case.perturbed.items()
        ]
    return items


# -- written after the rules and the threshold were fixed, and scored once: the honest test --

WILDFIRE = _document(
    "# Wildfire forces evacuation of Calder Valley",
    (
        "A wildfire in Calder Valley has burned about 4,300 hectares since Sunday, the regional"
        " fire service said on Wednesday. More than 1,100 residents of the villages of Ostby "
        "and Lorne were told to leave their homes. Fire chief Henrik Dahl said strong winds "
        "from the east were pushing the flames towards the forest reserve."
    ),
    (
        "Two firefighting planes arrived from Portugal on Tuesday. No deaths have been "
        "reported, but three firefighters were treated for smoke inhalation. The cause of the "
        "fire is still being investigated; police have not ruled out arson."
    ),
    (
        "The regional governor, Elsa Marwick, declared a state of emergency and promised "
        "compensation for farmers who lost livestock. Schools in the valley will stay closed "
        "until Monday. Rain is forecast for the weekend."
    ),
)

FRESH_DOCUMENTS: dict[str, str] = {**DOCUMENTS, "wildfire.md": WILDFIRE}

FRESH_CASES: tuple[Case, ...] = (
    Case(
        "wildfire.md",
        "4,300 hectares",
        (
            "The Calder Valley wildfire has burned around 4,300 hectares since Sunday.",
            "According to the regional fire service, about 4,300 hectares have burned.",
        ),
        {
            "number": "The Calder Valley wildfire has burned around 3,400 hectares since Sunday.",
            "entity": "According to the national police, about 4,300 hectares have burned.",
            "clause": "The wildfire has burned about 4,300 hectares, twice the area of last "
            "year's fire.",
        },
    ),
    Case(
        "wildfire.md",
        "Ostby and Lorne",
        ("Over 1,100 people from Ostby and Lorne were told to leave their homes.",),
        {
            "entity": "Over 1,100 people from Ostby and Marsh were told to leave their homes.",
            "negation": "Residents of Ostby and Lorne were never told to leave their homes.",
            "clause": "Over 1,100 residents of Ostby and Lorne were evacuated to a sports hall "
            "in the capital.",
        },
    ),
    Case(
        "wildfire.md",
        "Henrik Dahl",
        ("Fire chief Henrik Dahl said east winds were driving the fire towards the reserve.",),
        {
            "entity": "Governor Elsa Marwick said east winds were driving the fire towards the "
            "reserve.",
            "negation": "Henrik Dahl said the winds were not pushing the flames towards the "
            "forest reserve.",
            "clause": "Henrik Dahl said east winds were driving the fire towards the reserve, "
            "where rare owls nest.",
        },
    ),
    Case(
        "wildfire.md",
        "firefighting planes",
        (
            "Two firefighting planes came from Portugal on Tuesday.",
            "Nobody has died, though three firefighters were treated for smoke inhalation.",
        ),
        {
            "entity": "Two firefighting planes came from Spain on Tuesday.",
            "number": "Four firefighters were treated for smoke inhalation.",
            "negation": "Deaths have been reported among the firefighters.",
            "clause": "Two planes came from Portugal on Tuesday, and a third is on its way "
            "from Greece.",
        },
    ),
    Case(
        "wildfire.md",
        "ruled out arson",
        ("Police have not ruled out arson; the cause is still under investigation.",),
        {
            "negation": "Police have ruled out arson.",
            "clause": "Police have not ruled out arson and have arrested a local man.",
        },
    ),
    Case(
        "wildfire.md",
        "state of emergency",
        (
            "Governor Elsa Marwick declared a state of emergency.",
            "The governor promised compensation to farmers who lost livestock.",
            "Valley schools will stay closed until Monday.",
        ),
        {
            "entity": "Governor Henrik Dahl declared a state of emergency.",
            "negation": "The governor refused to compensate farmers who lost livestock.",
            "clause": "Schools will stay closed until Monday, and exams have been moved to June.",
        },
    ),
    Case(
        SEED.name,
        "2,500 U.S. troops stationed there",
        (
            "The Iraqi prime minister says he is ready for the U.S. troops to go home.",
            "Sudani told the U.S. government he is ready for its 2,500 troops to leave.",
        ),
        {
            "entity": "The Kurdish regional president says he is ready for the U.S. troops to "
            "go home.",
            "number": "Sudani told the U.S. government he is ready for its 25,000 troops to "
            "leave.",
            "clause": "Sudani is ready for the U.S. troops to go home because Iraq's army no "
            "longer needs training.",
        },
    ),
    Case(
        SEED.name,
        "Air and Space Forces Magazine",
        ("Air and Space Forces Magazine identified the dead leader as Abu Taqwa.",),
        {
            "entity": "The New York Times identified the dead leader as Abu Taqwa.",
            "clause": "Air and Space Forces Magazine identified the dead leader as Abu Taqwa, a "
            "former army officer.",
        },
    ),
    Case(
        SEED.name,
        "Iran-backed factions",
        ("Reuters says Iraq's leader has only limited control over Iran-backed factions.",),
        {
            "negation": "Reuters says Iraq's leader has full control over Iran-backed factions.",
            "clause": "Iraq's leader has limited control over the Iran-backed factions, which "
            "hold 40 seats in parliament.",
        },
    ),
)


def fresh_labelled() -> list[Labelled]:
    items = []
    for case in FRESH_CASES:
        items += [Labelled(case.doc, case.source, c, True, "paraphrase") for c in case.supported]
        items += [
            Labelled(case.doc, case.source, claim, False, kind)
            for kind, claim in case.perturbed.items()
        ]
    return items
