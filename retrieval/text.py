"""Text primitives shared by ingest, search and answering: sentences with exact offsets, terms.

Everything here works on character offsets into the original text, because every quote the
bot shows is checked against the source file at those offsets.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import Stemmer

from retrieval.models import Span

# Month names, each with its abbreviations: the one list that date finding, sentence
# splitting and answer kinds share.
_MONTH_NAMES = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
MONTHS: dict[str, int] = {
    name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names
}
MONTH_ABBREVIATIONS = frozenset(alias for names in _MONTH_NAMES for alias in names[1:])
# Words that end in a period without ending the sentence. Lower case, without the period.
_ABBREVIATIONS = MONTH_ABBREVIATIONS | frozenset(
    """mr mrs ms dr prof sr jr st gen col lt sgt capt cmdr adm rep sen gov pres rev hon
    no nos vs etc inc ltd co corp bros approx fig mt ft est dept univ assn e.g i.e a.m
    p.m""".split()
)
_DOTTED_ACRONYM = re.compile(r"(?:\b[A-Za-z]\.){2,}$")
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]+[\"'\u201d\u2019)\]]*")
_FINISHED = re.compile(_SENTENCE_END.pattern + r"\s*$")
_IDEOGRAPHIC_ENDS = "\u3002\uff01\uff1f"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_LIST_OR_HEADING = re.compile(r"\s*(?:[-*+\u2022]\s|\d+[.)]\s|#)")


def ends_with_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` belongs to an abbreviation such as "U.S." or "Dr."."""
    word_start = dot
    while (
        word_start > 0
        and not text[word_start - 1].isspace()
        and text[word_start - 1] not in "(\"'\u201c"
    ):
        word_start -= 1
    word = text[word_start : dot + 1]
    if _DOTTED_ACRONYM.search(word):
        return True
    bare = word[:-1].lower()
    if bare in _ABBREVIATIONS:
        return True
    return len(bare) == 1 and bare.isalpha() and word[0].isupper()  # an initial: "J. Smith"


def _line_ends_paragraph(text: str, newline: int, hard_wrapped: bool) -> bool:
    """A single newline is a soft wrap unless the line before it ends a sentence or block.

    In a hard-wrapped text (paragraphs separated by blank lines, lines cut at a column) a short
    unpunctuated line is only a wrapped line; elsewhere it is a heading or a list line.
    """
    end = newline
    while end > 0 and text[end - 1] in " \t\r":
        end -= 1
    line_start = text.rfind("\n", 0, end) + 1
    if end == line_start:
        return True
    if text[end - 1] in ".!?:;\u2026\"'\u201d\u2019)\u3002\uff01\uff1f":
        return True
    if _LIST_OR_HEADING.match(text, newline + 1):
        return True
    return not hard_wrapped and end - line_start < 80


def is_hard_wrapped(text: str) -> bool:
    """Blank-line paragraphs whose lines mostly stop mid-sentence: wrapped at a column."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if len(lines) < 4 or "\n\n" not in text.replace("\r", ""):
        return False
    unfinished = sum(1 for line in lines if line[-1] not in ".!?:;\u2026\"'\u201d\u2019)")
    return unfinished / len(lines) > 0.4


def _blocks(text: str, start: int, end: int, hard_wrapped: bool) -> list[Span]:
    """Paragraph-like blocks of text[start:end]: split at blank lines and hard line ends."""
    blocks: list[Span] = []
    block_start = start
    position = start
    while position < end:
        newline = text.find("\n", position, end)
        if newline == -1:
            break
        if _line_ends_paragraph(text, newline, hard_wrapped) or _PARAGRAPH_BREAK.match(
            text, newline
        ):
            blocks.append(Span(block_start, newline))
            block_start = newline + 1
        position = newline + 1
    blocks.append(Span(block_start, end))
    return [trimmed for block in blocks if (trimmed := strip_span(text, block)) is not None]


def strip_span(text: str, span: Span) -> Span | None:
    """The span without surrounding whitespace, or None if nothing is left."""
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if start < end else None


def _starts_sentence(text: str, boundary: int, end: int) -> bool:
    if not text[boundary].isspace():
        return False
    following = text[boundary:end].lstrip()
    return bool(following) and (
        following[0].isupper() or following[0].isdigit() or following[0] in "\"'\u201c\u2018(["
    )


def split_sentences(
    text: str, start: int = 0, end: int | None = None, hard_wrapped: bool = False
) -> list[Span]:
    """Sentences of text[start:end] as spans into `text`, whitespace trimmed.

    A sentence never crosses a paragraph. Abbreviations ("U.S.", "Dr.", initials) do not end one.
    """
    end = len(text) if end is None else end
    sentences: list[Span] = []
    for block in _blocks(text, start, end, hard_wrapped):
        sentence_start = block.start
        for match in _SENTENCE_END.finditer(text, block.start, block.end):
            boundary = match.end()
            if boundary >= block.end:
                break
            ideographic = text[match.start()] in _IDEOGRAPHIC_ENDS  # no space follows these
            if not ideographic and not _starts_sentence(text, boundary, block.end):
                continue
            if (
                text[match.start()] == "."
                and match.end() - match.start() == 1
                and ends_with_abbreviation(text, match.start())
            ):
                continue
            span = strip_span(text, Span(sentence_start, boundary))
            if span is not None:
                sentences.append(span)
            sentence_start = boundary
        span = strip_span(text, Span(sentence_start, block.end))
        if span is not None:
            sentences.append(span)
    return sentences


def split_long(text: str, span: Span, limit: int) -> list[Span]:
    """Cut a span longer than `limit` at word boundaries (a hard cut when there is no space)."""
    pieces: list[Span] = []
    start = span.start
    while span.end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        piece = strip_span(text, Span(start, cut))
        if piece is not None:
            pieces.append(piece)
        start = cut
    piece = strip_span(text, Span(start, span.end))
    if piece is not None:
        pieces.append(piece)
    return pieces


# Function words and question words: they carry no topic, so lexical matching ignores them.
STOPWORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing for from had has
    have having he her hers him his how i if in into is it its itself me more most my no nor
    not of off on once only or other our ours out over own same she should so some such than
    that the their theirs them then there these they this those through to too under until up
    very was we were what when where which while who whom whose why will with would you your
    yours about above after again against all also am any because before below between both
    during each few further here just now s t don doesn didn isn wasn aren weren
    tell say said says according much many one ones thing things kind get got make made""".split()
)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
# The comma first: re then scans for it, about 9x quicker than a lookbehind first.
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}\b)")
_DOTTED_ANYWHERE = re.compile(r"\b(?:[A-Za-z]\.){2,}")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def normalize(text: str) -> str:
    """Fold "U.S." to "US" and "2,500" to "2500" so spellings of one thing match."""
    text = _DOTTED_ANYWHERE.sub(lambda m: m.group(0).replace(".", ""), text)
    return _THOUSANDS.sub("", text)


def words(text: str) -> list[str]:
    """Lower-cased word and number tokens, before stop-wording and stemming."""
    return [token.lower() for token in _TOKEN.findall(normalize(text))]


def terms(text: str) -> list[str]:
    """Stemmed content terms, for BM25 and for checking what a sentence covers."""
    kept = [word for word in words(text) if word not in STOPWORDS]
    return list(_stemmer().stemWords(kept))


_NAME_RUN = re.compile(r"[A-Z][a-z]+(?:\s+(?:(?:of|for|and|the)\s+)?[A-Z][a-z]+)+")


def acronym_terms(text: str) -> list[str]:
    """The initials of each multi-word name, as terms: a question may say "IMF" where the
    article says "International Monetary Fund"."""
    initials = (
        "".join(word[0] for word in match.group(0).split() if word.lower() not in STOPWORDS)
        for match in _NAME_RUN.finditer(text)
    )
    return terms(" ".join(letters for letters in initials if len(letters) >= 3))


def script(text: str) -> str:
    """The writing system most letters of the text are in: "latin", "greek", "cyrillic",
    "hebrew", "arabic", "cjk" (Chinese, Japanese or Korean), "other", or "none" when it has
    no letter."""
    counts: Counter[str] = Counter()
    for char in text:
        if not char.isalpha():
            continue
        code = ord(char)
        if code < 0x250 or 0x1E00 <= code < 0x1F00:
            counts["latin"] += 1
        elif 0x370 <= code < 0x400:
            counts["greek"] += 1
        elif 0x400 <= code < 0x530:
            counts["cyrillic"] += 1
        elif 0x590 <= code < 0x600:
            counts["hebrew"] += 1
        elif 0x600 <= code < 0x700:
            counts["arabic"] += 1
        elif 0x3040 <= code < 0xA000 or 0xAC00 <= code < 0xD7B0:
            counts["cjk"] += 1
        else:
            counts["other"] += 1
    return counts.most_common(1)[0][0] if counts else "none"


def ends_sentence(text: str) -> bool:
    """Whether the text ends as a sentence does: a full stop, "…", "!" or "?" (or their
    ideographic forms), and any closing quote or bracket."""
    return bool(_FINISHED.search(text))


def without_shouting(text: str) -> str:
    """A message typed all in capitals, in lower case: read as typed, every word of it would
    be a name ("WHICH THINK TANK DOES JUSTIN LOGAN WORK FOR?"), and the answer step would miss
    each of them in the evidence. Only when every letter is a capital: one small letter
    ("WHO IS McCAIN?"), or one of a script without capitals (a Latin name in a Chinese
    question), and the message is left as it is, as any other is."""
    letters = [c for c in text if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return text
    # The Turkish capital dotted I lowers to "i" with a combining dot, which splits the word.
    return text.lower().replace("i\u0307", "i")
