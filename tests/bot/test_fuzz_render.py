"""Property tests: any answer text and quote (markup characters, emoji, right-to-left text,
huge words) renders into messages under Telegram's limit, with balanced tags and entities,
and every [n] marker and quote character survives."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import MESSAGE_LIMIT, render_answer, utf16_length
from retrieval.models import Answer, Citation
from tests.bot.test_render import visible

ODD = st.sampled_from(
    [
        "<b>",
        "&amp;",
        "&",
        "<",
        ">",
        '"',
        "\U0001f600",
        "\u05e9\u05dc\u05d5\u05dd",
        "\u200f",
        "[1]",
        "x" * 5000,
        "\n",
        " ",
        "\u0301",
        "\U0001f1fa\U0001f1f8",
    ]
)
TEXT = st.lists(st.one_of(ODD, st.text(max_size=30)), min_size=1, max_size=60).map("".join)


@settings(max_examples=150, deadline=None)
@given(body=TEXT, quote=TEXT, show_quotes=st.booleans())
def test_any_answer_renders_into_valid_messages(body: str, quote: str, show_quotes: bool) -> None:
    citation = Citation(
        1, "doc.txt", "Title <&>", "Section", "c1", quote, 0, len(quote), 0.1, None
    )
    answer = Answer("q", f"{body} [1]", True, "extractive", (citation,))
    rendered = render_answer(answer, show_quotes=show_quotes)
    shown = ""
    for part in rendered.parts:
        assert utf16_length(part) <= MESSAGE_LIMIT
        shown += visible(part)  # balanced tags, no broken entity
    assert re.search(r"\[1\]", shown)
    if show_quotes and quote.strip():
        kept = "".join(quote.split())
        assert kept[:20] in "".join(shown.split())  # the quote's start is shown as written
