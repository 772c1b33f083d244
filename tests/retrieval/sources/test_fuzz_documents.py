"""Property tests: whatever a source file holds (odd whitespace, markup, front matter, huge
lines, emoji, right-to-left text), parsing never fails but with DocumentError, and every
passage and sentence keeps exact offsets into the file's text, so no quote can drift."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.errors import DocumentError
from retrieval.sources.documents import cut_passages, parse_document

PIECES = st.sampled_from(
    [
        "The U.S. troops left.",
        "Dr. Smith said: \u201cno.\u201d",
        "# Heading",
        "## Another heading #",
        "---",
        "title: A: b",
        "- a list item",
        "1) numbered",
        "```",
        "~~~ python",
        "tags:",
        "  - economy",
        "Setext title",
        "===",
        "-----",
        "> # quoted heading",
        "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd.",  # Hebrew, right to left
        "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645.",  # Arabic
        "Emoji \U0001f600 and \U0001f1fa\U0001f1f8 flags.",
        "\u200b\u00ad\ufeff",
        "a" * 700,
        "https://example.org/" + "x" * 300,
        "\t  \t",
        "",
        "6th January 2024",
        "January 6th, 2024",
        "[7] a footnote.",
    ]
)
TEXTS = st.lists(
    st.one_of(PIECES, st.text(min_size=0, max_size=40)), min_size=1, max_size=25
).flatmap(
    lambda parts: st.lists(
        st.sampled_from(["\n", "\n\n", " ", "\r\n", "\n\n\n", "  \n"]),
        min_size=len(parts),
        max_size=len(parts),
    ).map(lambda seps: "".join(p + s for p, s in zip(parts, seps, strict=True)))
)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, chunk_chars=st.sampled_from([100, 600, 8000]))
def test_any_text_parses_into_passages_with_exact_offsets(text: str, chunk_chars: int) -> None:
    try:
        document = parse_document(Path("doc.md"), "doc.md", text)
    except DocumentError:
        return  # e.g. headings with no body: refused with a reason, never a crash
    assert document.text == text
    for section in document.sections:
        assert 0 <= section.body.start < section.body.end <= len(text)
    previous_end = 0
    for passage in cut_passages(document, chunk_chars):
        assert text[passage.start : passage.end] == passage.text
        assert passage.start >= previous_end  # in order, never overlapping
        previous_end = passage.end
        for span in passage.sentences:
            assert passage.start <= span.start < span.end <= passage.end
            assert span.of(text).strip() == span.of(text)  # trimmed, not empty
        assert len(passage.text) <= max(
            chunk_chars, max(len(s.of(text)) for s in passage.sentences)
        )
