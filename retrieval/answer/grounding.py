"""Checks on an LLM's answer before anyone sees it, sentence by sentence (claim by claim).

A sentence ships only when it
* cites a passage it was given ("[2]", "[1, 3]", "[1-3]");
* is a claim, not a fragment (". [1]", a heading, two words) and not an echo of our prompts
  ("<<<QUESTION", "PASSAGE 2>>>", "User:", a run of the instructions' words);
* does not repeat an earlier sentence (a model looping until max_tokens);
* has every number, URL, e-mail address, @mention, quoted string and capitalised name of it
  in the passages it cites;
* does not add a negation its source lacks, and is supported by what it cites: enough of its
  content terms, weighted by how rare each is in the corpus (idf), occur in the cited
  passages (`SUPPORT_THRESHOLD`, chosen on labelled claims: docs/llm-mode.md).

Names, quotes, negations and the term check need the claim and its passages in one language; a
claim in another language than its passages (an answer in Russian from English documents)
keeps only the checks that do not depend on language: citations, numbers, URLs, addresses,
mentions, fragments, echoes and repeats.

And a whole answer must not leak the instructions or a key (`leaks`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from retrieval.models import CorpusStatistics, IndexedSentence, Passage
from retrieval.text import (
    STOPWORDS,
    ends_sentence,
    ends_with_abbreviation,
    normalize,
    script,
    split_sentences,
    terms,
    words,
)

NOT_COVERED_MARK = "NOT_COVERED"

# Share of a claim's content-term weight that must occur in the passages it cites. Chosen on
# the labelled claims of tests/retrieval/llm/claims.py (`python -m
# tests.retrieval.llm.calibrate_claims`); precision and recall are in docs/llm-mode.md.
SUPPORT_THRESHOLD = 0.8
# A claim whose best-matching source sentence shares at least this share of its weight, but
# not its negation, says the opposite of it.
NEGATION_OVERLAP = 0.5

# Why a sentence was dropped (`Grounding.reasons`).
UNCITED = "uncited"  # no citation of a passage that was given
ECHO = "echo"
FRAGMENT = "fragment"
REPEAT = "repeat"
TRUNCATED = "truncated"  # cut off at max_tokens
NUMBER = "number"
LITERAL = "literal"  # a URL, e-mail address or @mention its sources lack
QUOTE = "quote"
NAME = "name"
NEGATION = "negation"
UNSUPPORTED = "unsupported"

_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKER_LIST = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})+)\]")  # "[1, 2]", "[1,2,3]"
_MARKER_RANGE = re.compile(r"\[(\d{1,3})\s*[-\u2013]\s*(\d{1,3})\]")  # "[1-3]"
_MARKERS_AFTER_END = re.compile(r"([.!?\u3002])((?:\s*\[\d{1,3}\])+)")  # "claim. [1]"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MARKER_GLUED = re.compile(r"(\])([.!?])(?=[^\s\[])")
_LOWER_AFTER_END = re.compile(r"[.!?]\s+(?=[a-z])")
_LEAK_WINDOW = 8  # this many consecutive words of the instructions count as leaking them
_ECHO_WINDOW = 6  # this many (with two content words) count as echoing a prompt
_ANSWER_LABEL = re.compile(
    r"^\s*(?:answer|antwort|r\u00e9ponse|respuesta|\u043e\u0442\u0432\u0435\u0442)\s*:\s*", re.I
)
_ECHO = re.compile(
    r"<<<|>>>|\u2039\u2039\u2039|\u203a\u203a\u203a"
    r"|\b(?:PASSAGE\s*\d+|QUESTION|NEW MESSAGE|CONVERSATION|TOPIC|NOT_COVERED)\b"
    r"|(?:^|\s)(?:[Uu]ser|[Aa]ssistant|[Ss]ystem|[Hh]uman|AI)\s*:"
)
_URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"'\u201c\u201d\])]+", re.I)
_TLDS = (
    "com|org|net|gov|edu|mil|int|io|co|info|biz|news|eu|uk|us|ca|au|de|fr|es|it|nl|ru|ua|"
    "il|ir|iq|sy|in|cn|jp|tv|me|ly|ai|app|dev"
)
_DOMAIN = re.compile(
    rf"\b(?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLDS})\b(?:/[^\s<>\"'\u201c\u201d\])]*)?", re.I
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<![\w.@])@\w{2,}")
_QUOTED = re.compile(
    r"\"([^\"]{2,})\"|\u201c([^\u201c\u201d]{2,})\u201d|\u201e([^\u201c\u201d\u201e]{2,})[\u201c\u201d]"
    r"|\u00ab([^\u00ab\u00bb]{2,})\u00bb|\u2018([^\u2018\u2019]+\s[^\u2018\u2019]+)\u2019"
)
_TOKEN = re.compile(r"[^\W\d_][\w'\u2019]*")  # "al-Sudani": "al", "Sudani"
# Negations, denials and refusals: "not ready", "has denied that attacks ...".
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|"
    r"den(?:y|ies|ied|ying)|refus(?:e|es|ed|ing)|reject(?:s|ed|ing)?|"
    r"nicht|kein|keine|keinen|nie|niemals|pas|jamais|aucun|aucune|nunca|ning\u00fan|ninguna|"
    r"\u043d\u0435|\u043d\u0435\u0442|\u043d\u0438)\b|n['\u2019]t\b",
    re.I,
)
_NEGATION_SCOPE = 3  # the words after a negation that it negates
_NOT_NAMES = STOPWORDS | frozenset(
    """nobody everybody somebody anybody everyone someone anyone none nothing everything
    something anything""".split()
)
_REFERRING = frozenset("he she it they him them his her its their this these those".split())
# Words that mark a verb (or are one): a sentence of three words or more without any of them,
# and without a word ending like a verb, is a fragment ("U.S. Forces in Iraq").
_VERBISH = frozenset(
    """is are was were be been being am has have had do does did will would can could may
    might must shall should said says say told tells tell argued argues argue reported
    reports report stated states state added adds noted notes claimed claims claim wrote
    writes called calls killed kills came comes come went goes go gave gives give took takes
    take made makes make got gets get saw sees see left leaves leave began begins won wins
    lost loses rose rises fell falls met meets paid pays sent sends set sets put puts
    found finds hold holds held keep keeps kept run runs ran cost costs cut cuts led leads
    lead stand stands stood remain remains denied denies deny""".split()
)
_VERB_ENDINGS = ("ed", "ing", "es")
# Function words that mark a Latin-script sentence as English, or as another language.
_ENGLISH = frozenset(
    """the and of to is are was were that with for this from by has have had it he she they
    not be been which who will would their his her its at or an""".split()
)
_OTHER_LATIN = frozenset(
    """der das und ist nicht ein eine zu mit von den dem des sich auf f\u00fcr wird sind auch
    nach bei wurde werden le les est des une et du que pour dans pas sur qui au aux sont avec
    cette elle ont \u00e9t\u00e9 el los las es y del por una con para se lo est\u00e1 su
    como che di della sono \u00e8 per gli delle os n\u00e3o uma com do da s\u00e3o em het een
    en van niet zijn voor op ook""".split()
) - {"do"}


@dataclass(frozen=True, slots=True)
class GroundedSentence:
    text: str  # without markers
    passages: tuple[int, ...]  # 0-based indexes into the passages the model was given


@dataclass(frozen=True, slots=True)
class Grounding:
    sentences: tuple[GroundedSentence, ...]
    dropped: int  # sentences removed, for any of `reasons`
    reasons: Mapping[str, int] = field(default_factory=dict)  # reason: sentences

    @property
    def usable(self) -> bool:
        return bool(self.sentences)

    @property
    def uncited(self) -> int:
        """Sentences dropped for breaking the citation rule: what a regeneration can fix."""
        return self.reasons.get(UNCITED, 0)

    def describe(self) -> str:
        return ", ".join(f"{reason} {count}" for reason, count in sorted(self.reasons.items()))


def is_not_covered(text: str) -> bool:
    return text.strip().strip(".").upper() == NOT_COVERED_MARK


def ground(
    text: str,
    passages: Sequence[Passage],
    *,
    statistics: CorpusStatistics | None = None,
    prompts: Sequence[str] = (),
    truncated: bool = False,
    partial: bool = False,
) -> Grounding:
    """Keep the sentences of `text` that pass every check against the passages they cite;
    citations of passages that were not given are removed.

    `statistics` gives the term weights (idf over the corpus; without it, over the sentences
    of `passages`); `prompts` are the texts an answer must not echo; `truncated`: the model hit
    max_tokens, so an unfinished last sentence is dropped; `partial`: the model is still
    writing, so a last sentence without its full stop and citation is not judged (nor
    counted) yet."""
    claims = _claims(_normalise_markers(text))
    if partial and claims and not (ends_sentence(claims[-1]) and _MARKER.search(claims[-1])):
        claims = claims[:-1]  # still being written
    reasons: Counter[str] = Counter()
    if truncated and claims and not ends_sentence(claims[-1]):
        claims = claims[:-1]
        reasons[TRUNCATED] += 1
    evidence = Evidence(passages, statistics)
    phrases = _prompt_phrases(tuple(prompts))
    seen: list[_Key] = []
    kept: list[GroundedSentence] = []
    for sentence in claims:
        grounded, problem = _judge(sentence, passages, evidence, phrases, seen)
        if grounded is None:
            reasons[problem or UNCITED] += 1
        else:
            kept.append(grounded)
    return Grounding(tuple(kept), sum(reasons.values()), dict(reasons))


def _normalise_markers(text: str) -> str:
    text = _MARKER_LIST.sub(
        lambda m: "".join(f"[{n.strip()}]" for n in re.split(r"[,;]", m.group(1))), text
    )
    text = _MARKER_RANGE.sub(_expand_range, text)
    text = _MARKERS_AFTER_END.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)
    return _MARKER_GLUED.sub(r"\1\2 ", text)  # "claim [1].Next" -> "claim [1]. Next"


def _expand_range(match: re.Match[str]) -> str:
    first, last = int(match.group(1)), int(match.group(2))
    if not 0 < last - first < 10:
        return match.group(0)
    return "".join(f"[{n}]" for n in range(first, last + 1))


def _judge(
    sentence: str,
    passages: Sequence[Passage],
    evidence: Evidence,
    phrases: frozenset[str],
    seen: list[_Key],
) -> tuple[GroundedSentence | None, str | None]:
    """The sentence with its citations, or None and why it must not ship."""
    if _echoes(sentence, phrases):
        return None, ECHO
    bare = " ".join(_MARKER.sub(" ", sentence).split())
    bare = _ANSWER_LABEL.sub("", re.sub(r"\s+([.,;:!?])", r"\1", bare))
    key = (tuple(words(bare)), frozenset(terms(bare)), frozenset(_numbers(normalize(bare))))
    repeated = any(_same(key, earlier) for earlier in seen)
    seen.append(key)
    if repeated:
        return None, REPEAT
    cited = tuple(
        dict.fromkeys(
            int(n) - 1 for n in _MARKER.findall(sentence) if 1 <= int(n) <= len(passages)
        )
    )
    if not cited:
        return None, UNCITED
    if is_fragment(bare):
        return None, FRAGMENT
    if evidence.is_header(bare):
        return None, ECHO  # "[2] Title — Section (2024-01-06)", copied from the request
    problem = evidence.problem(bare, cited)
    if problem is not None:
        return None, problem
    return GroundedSentence(bare, cited), None


_Key = tuple[tuple[str, ...], frozenset[str], frozenset[str]]  # words, terms, numbers


def _same(key: _Key, other: _Key) -> bool:
    """The same sentence again, or nearly: the same numbers and four in five of the terms."""
    if key[0] == other[0]:
        return True
    a, b = key[1], other[1]
    return key[2] == other[2] and len(a) >= 2 and len(b) >= 2 and len(a & b) >= 0.8 * len(a | b)


def _claims(text: str) -> list[str]:
    """Sentences, also split where a lower-case sentence follows a full stop ("He resigned.
    and there are..."), so an uncited claim cannot ride along with a cited one."""
    claims = []
    for span in split_sentences(text):
        start = span.start
        for match in _LOWER_AFTER_END.finditer(text, span.start, span.end):
            end = match.start() + 1
            if text[match.start()] == "." and ends_with_abbreviation(text, match.start()):
                continue
            claims.append(text[start:end].strip())
            start = match.end()
        claims.append(text[start : span.end].strip())
    return [claim for claim in claims if claim]


# -- echoes and fragments ------------------------------------------------------------------


@lru_cache(maxsize=8)
def _prompt_phrases(prompts: tuple[str, ...]) -> frozenset[str]:
    """Every run of `_ECHO_WINDOW` words of the prompts with at least two content words."""
    phrases = set()
    for prompt in prompts:
        found = words(prompt)
        for i in range(len(found) - _ECHO_WINDOW + 1):
            window = found[i : i + _ECHO_WINDOW]
            if sum(word not in STOPWORDS for word in window) >= 2:
                phrases.add(" ".join(window))
    return frozenset(phrases)


def _echoes(sentence: str, phrases: frozenset[str]) -> bool:
    """Our delimiters, role labels or a run of a prompt's words."""
    if _ECHO.search(sentence):
        return True
    found = words(sentence)
    return any(
        " ".join(found[i : i + _ECHO_WINDOW]) in phrases
        for i in range(len(found) - _ECHO_WINDOW + 1)
    )


def is_fragment(bare: str) -> bool:
    """No claim: no letters, fewer than three words, a title-case heading, or (in English)
    nothing verb-like."""
    letters = [c for c in bare if c.isalpha()]
    if not letters:
        return True
    if script(bare) == "cjk":  # written without spaces: count characters
        return len(letters) < 4
    found = words(bare)
    if len(found) < 3:
        return True
    tokens = _TOKEN.findall(normalize(bare))
    # A heading: its words capitalised but for a few small ones ("U.S. Forces in Iraq").
    if all(
        word[0].isupper() or (word.lower() in STOPWORDS and word.lower() not in _VERBISH)
        for word in tokens
    ):
        return True
    verbish = any(
        _verb_like(word) and not _infinitive(tokens, position)
        for position, word in enumerate(tokens)
    )
    # In English, a run of words without anything like a verb.
    return not verbish and _language(bare) in ("en", "unknown")


def _verb_like(word: str) -> bool:
    if word.lower() in _VERBISH:
        return True
    if not word.islower() or len(word) < 4:
        return False
    return word.endswith(_VERB_ENDINGS) or (word.endswith("s") and word[-2] not in "su")


def _infinitive(tokens: Sequence[str], position: int) -> bool:
    """The word is part of an infinitive ("to be killed"): no verb of the sentence."""
    before = [token.lower() for token in tokens[max(0, position - 2) : position]]
    return before[-1:] == ["to"] or (before[-2:-1] == ["to"] and before[-1] in {"be", "have"})


# -- language ------------------------------------------------------------------------------


def _language(text: str) -> str:
    """ "en", "latin" (another Latin-script language), another script's name, or "unknown"
    (too few function words to tell)."""
    written = script(text)
    if written != "latin":
        return written
    found = words(text)
    english = sum(word in _ENGLISH for word in found)
    other = sum(word in _OTHER_LATIN for word in found)
    if english == other == 0 or (english == other and len(found) < 6):
        return "unknown"
    return "en" if english >= other else "latin"


def _same_language(claim: str, source: str) -> bool:
    mine = _language(claim)
    return mine == "unknown" or source == "unknown" or mine == source


# -- evidence ------------------------------------------------------------------------------

# Irregular verb forms the stemmer leaves alone ("took" and "take" are two stems otherwise).
_IRREGULAR = {
    form: base
    for base, forms in {
        "take": "took taken",
        "go": "went gone",
        "give": "gave given",
        "come": "came",
        "tell": "told",
        "find": "found",
        "leave": "left",
        "keep": "kept",
        "hold": "held",
        "lead": "led",
        "meet": "met",
        "pay": "paid",
        "send": "sent",
        "spend": "spent",
        "build": "built",
        "bring": "brought",
        "buy": "bought",
        "think": "thought",
        "begin": "began begun",
        "win": "won",
        "lose": "lost",
        "rise": "rose risen",
        "fall": "fell fallen",
        "run": "ran",
        "see": "saw seen",
        "write": "wrote written",
        "choose": "chose chosen",
        "drive": "drove driven",
        "fly": "flew flown",
        "grow": "grew grown",
        "know": "knew known",
        "shoot": "shot",
        "strike": "struck",
        "fight": "fought",
        "sell": "sold",
        "stand": "stood",
        "speak": "spoke spoken",
        "break": "broke broken",
        "seek": "sought",
        "teach": "taught",
        "catch": "caught",
        "feel": "felt",
        "hear": "heard",
        "mean": "meant",
        "withdraw": "withdrew withdrawn",
    }.items()
    for form in forms.split()
}
_LEMMAS = {
    stem: base_stem
    for form, base in _IRREGULAR.items()
    for stem in terms(form)
    for base_stem in terms(base)[:1]
}
# Number words are numbers: "seven times" must be in the source as "seven" or "7". ("one" is
# left out: "no one", "one of them".)
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        """zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen
        fifteen sixteen seventeen eighteen nineteen twenty""".split()
    )
    if word != "_"
} | {
    word: str(10 * tens)
    for tens, word in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)
}


def _terms(text: str) -> frozenset[str]:
    return frozenset(_LEMMAS.get(term, term) for term in terms(text))


def _numbers(normalised: str) -> set[str]:
    """The numbers of a text, as digits: "2,500" is "2500", "seven" is "7", and the "06" of a
    date is also "6"."""
    found = {m.group(0).replace(",", "").rstrip(".") for m in _NUMBER.finditer(normalised)}
    found |= {_NUMBER_WORDS[w] for w in words(normalised) if w in _NUMBER_WORDS}
    return found | {number.lstrip("0") for number in found if number.lstrip("0")}


def _vocabulary(text: str) -> frozenset[str]:
    found = {w.lower() for w in _TOKEN.findall(normalize(text))}
    return frozenset(found | {_bare_word(w) for w in found})


@dataclass(frozen=True, slots=True)
class _Span:
    """One sentence of a passage, or a few consecutive ones, with the passage's title, section
    and date (the model sees those too)."""

    terms: frozenset[str]
    vocabulary: frozenset[str]  # lower-cased words, for names
    numbers: frozenset[str]
    negated: bool  # a sentence of it negates something
    negated_terms: frozenset[str]  # what its negations negate


@dataclass(frozen=True, slots=True)
class _Source:
    """What the checks need to know about one passage, computed once per answer."""

    text: str  # lower case, for URLs, addresses and mentions
    words: list[str]  # normalised, for quotes
    whole: _Span
    windows: tuple[_Span, ...]  # where a claim may be said (`_windows`)
    language: str


def _span(sentences: Sequence[str], context: str) -> _Span:
    text = " ".join(sentences)
    negated, negated_terms = _negation(text)
    return _Span(
        terms=_terms(f"{text} {context}"),
        vocabulary=_vocabulary(f"{text} {context}"),
        numbers=frozenset(_numbers(normalize(f"{text} {context}"))),
        negated=negated,
        negated_terms=negated_terms,
    )


def _negation(text: str) -> tuple[bool, frozenset[str]]:
    """Whether the text negates (or denies) anything, and the content terms in the few words
    after each of its negations: what it says is not so."""
    normalised = normalize(text)
    found = False
    negated: set[str] = set()
    for match in _NEGATION.finditer(normalised):
        found = True
        negated |= _terms(" ".join(words(normalised[match.end() :])[:_NEGATION_SCOPE]))
    return found, frozenset(negated)


def _windows(sentences: Sequence[str], context: str) -> tuple[_Span, ...]:
    """Each sentence, and each pair of consecutive ones whose second refers back ("He argued
    ..." after the sentence naming him)."""
    spans = [_span([sentence], context) for sentence in sentences]
    for first, second in itertools.pairwise(sentences):
        if any(word in _REFERRING for word in words(second)):
            spans.append(_span([first, second], context))
    return tuple(spans)


class Evidence:
    """The passages an answer was written from, as the claim checks need them."""

    def __init__(
        self,
        passages: Sequence[Passage],
        statistics: CorpusStatistics | None = None,
        threshold: float = SUPPORT_THRESHOLD,
    ) -> None:
        self._passages = passages
        self._threshold = threshold
        self._sources: dict[int, _Source] = {}
        self._headers: list[str] | None = None
        if statistics is not None:
            self._idf: Mapping[str, float] = statistics.idf
            self._unseen = statistics.unseen_idf
        else:  # idf over the sentences of the passages themselves
            sentence_terms = [
                _terms(span.of(passage.text))
                for passage in passages
                for span in split_sentences(passage.text)
            ]
            count = len(sentence_terms)
            frequency: Counter[str] = Counter(t for found in sentence_terms for t in found)
            self._idf = {
                term: math.log(1 + (count - df + 0.5) / (df + 0.5))
                for term, df in frequency.items()
            }
            self._unseen = math.log(1 + (count + 0.5) / 0.5)

    def weight(self, term: str) -> float:
        return self._idf.get(term, self._unseen)

    def is_header(self, claim: str) -> bool:
        """The claim is (nearly all of) a passage's heading line in the request: its title,
        section and date, which the model sees above the passage."""
        if self._headers is None:
            self._headers = [
                " ".join(words(f"{p.title} {p.section} {p.date or ''}")) for p in self._passages
            ]
        found = " ".join(words(claim))
        return any(
            f" {found} " in f" {header} " and len(found) >= 0.8 * len(header)
            for header in self._headers
        )

    def source(self, index: int) -> _Source:
        found = self._sources.get(index)
        if found is None:
            passage = self._passages[index]
            # The model sees each passage's title, section and date too.
            context = f"{passage.title} {passage.section} {passage.date or ''}"
            sentences = [span.of(passage.text) for span in split_sentences(passage.text)]
            windows = _windows(sentences, context)
            found = _Source(
                text=passage.text.lower(),
                words=words(passage.text),
                whole=_span(sentences or [passage.text], context),
                windows=windows or (_span([passage.text], context),),
                language=_language(passage.text),
            )
            self._sources[index] = found
        return found

    def problem(self, claim: str, cited: Sequence[int]) -> str | None:
        """Why `claim` is not supported by the cited passages, or None when it is."""
        sources = [self.source(i) for i in cited]
        numbers = _numbers(normalize(claim))
        if not numbers <= frozenset().union(*(s.whole.numbers for s in sources)):
            return NUMBER
        text = " ".join(s.text for s in sources)
        literals = [*_URL.findall(claim), *_DOMAIN.findall(claim)]
        if any(_plain_url(url) not in text for url in literals):
            return LITERAL
        addresses = _EMAIL.findall(claim)
        mentions = _MENTION.findall(_EMAIL.sub(" ", claim))
        if any(found.lower() not in text for found in (*addresses, *mentions)):
            return LITERAL
        rest = _MENTION.sub(" ", _EMAIL.sub(" ", _DOMAIN.sub(" ", _URL.sub(" ", claim))))
        if not _same_language(rest, sources[0].language):
            return None  # only the checks above hold across languages
        if not all(self._quoted(quote, sources) for quote in _quotes(rest)):
            return QUOTE
        names = _names(rest)
        if not all(any(_matches(n, s.whole.vocabulary) for s in sources) for n in names):
            return NAME
        return self._support(rest, names, numbers, sources)

    @staticmethod
    def _quoted(quote: str, sources: Sequence[_Source]) -> bool:
        wanted = words(quote)
        return any(
            wanted == source.words[i : i + len(wanted)]
            for source in sources
            for i in range(len(source.words) - len(wanted) + 1)
        )

    def support(self, claim: str, cited: Sequence[int]) -> float:
        """The share of the claim's content-term weight found in the best window of the
        cited passages (one sentence, or two in a row, with the passage's title)."""
        claim_terms = _terms(claim)
        return max(
            (self._share(claim_terms, w.terms) for i in cited for w in self.source(i).windows),
            default=0.0,
        )

    def _share(self, claim_terms: frozenset[str], available: frozenset[str]) -> float:
        total = sum(self.weight(t) for t in claim_terms)
        if total == 0:
            return 0.0
        found = sum(self.weight(t) for t in claim_terms if _matches(t, available))
        return found / total

    def _support(
        self, claim: str, names: Sequence[str], numbers: set[str], sources: Sequence[_Source]
    ) -> str | None:
        """The claim must be said in one place: a window of the sources that holds its names
        and numbers and enough of its terms, and agrees with it on negation."""
        claim_terms = _terms(claim)
        if not claim_terms:
            return UNSUPPORTED
        share, window = max(
            (
                (self._share(claim_terms, window.terms), window)
                for source in sources
                for window in source.windows
                if numbers <= window.numbers
                and all(_matches(name, window.vocabulary) for name in names)
            ),
            key=lambda found: found[0],
            default=(0.0, None),
        )
        if window is None:
            return NAME if names else NUMBER  # each is there, but not together
        if share < self._threshold:
            return UNSUPPORTED
        # Negation: the claim must not deny what the window says, nor say what it denies.
        negated, negated_terms = _negation(claim)
        if negated and not window.negated:
            return NEGATION
        if any(
            _matches(term, window.terms) and not _matches(term, window.negated_terms)
            for term in negated_terms
        ) or (not negated and any(_matches(term, claim_terms) for term in window.negated_terms)):
            return NEGATION
        return None


def _matches(term: str, available: frozenset[str]) -> bool:
    """The term, or a close form of it ("iraq" for "iraqi", "iran" for "iranian")."""
    if term in available:
        return True
    if len(term) < 4 or term[0].isdigit():
        return False
    return any(
        len(other) >= 4
        and abs(len(other) - len(term)) <= 3
        and (other.startswith(term) or term.startswith(other))
        for other in available
    )


def _bare_word(word: str) -> str:
    """Without a possessive ending: "iran's" -> "iran"."""
    return re.sub(r"['\u2019]s?$", "", word)


def _plain_url(url: str) -> str:
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower())
    return url.rstrip(".,;:!?)/")


def _quotes(text: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in _QUOTED.finditer(text)]


def _names(text: str) -> list[str]:
    """The capitalised words of the text that are not function words, lower-cased. The first
    word counts only as part of a name of several words or as an acronym ("NATO")."""
    tokens = _TOKEN.findall(normalize(text))
    names = []
    for position, token in enumerate(tokens):
        word = _bare_word(token)
        if not word or not word[0].isupper() or word.lower() in _NOT_NAMES:
            continue
        if position == 0 and not _name_first(word, token, tokens, text):
            continue
        names.append(word.lower())
    return names


def _name_first(word: str, token: str, tokens: Sequence[str], text: str) -> bool:
    """Whether the capitalised first word of a sentence is a name: an acronym, a possessive
    ("Vantry's"), part of a longer name, or the subject of a verb ("Iran said", "Syria
    reportedly considers"), and not an opening word followed by a comma ("However, ...")."""
    if len(word) >= 2 and word.isupper() or token != word:
        return True
    following = tokens[1] if len(tokens) > 1 else ""
    if not following or re.match(rf"\W*{re.escape(token)}\s*,", text):
        return False
    return following[0].isupper() or following in _VERBISH or following.endswith("ly")


def best_quote(cited_by: Sequence[str], sentences: Sequence[IndexedSentence]) -> IndexedSentence:
    """The passage sentence that shares most words with the answer sentences citing it."""
    wanted = set(terms(" ".join(cited_by)))
    return max(sentences, key=lambda s: (len(wanted & s.terms), -s.position))


def leaks(text: str, system_prompt: str, secrets: Sequence[str]) -> bool:
    """True if the text contains a secret or a run of the system prompt's words."""
    if any(secret and secret in text for secret in secrets):
        return True
    prompt_words = words(system_prompt)
    runs = {
        " ".join(prompt_words[i : i + _LEAK_WINDOW])
        for i in range(len(prompt_words) - _LEAK_WINDOW + 1)
    }
    answer_words = words(text)
    return any(
        " ".join(answer_words[i : i + _LEAK_WINDOW]) in runs
        for i in range(len(answer_words) - _LEAK_WINDOW + 1)
    )
