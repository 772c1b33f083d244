from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.messages import Messages
from bot.render import MESSAGE_LIMIT, answer_keyboard, render_answer, split_text, utf16_length
from retrieval.models import NOT_EXACTLY, Answer, Citation


class _TagChecker(HTMLParser):
    """Fails on unbalanced tags and returns the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"closing {tag} with nothing open"
        assert self.stack.pop() == tag, f"mismatched </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text += data


def visible(html_text: str) -> str:
    checker = _TagChecker()
    checker.feed(html_text)
    checker.close()
    assert checker.stack == [], f"unclosed {checker.stack}"
    assert not re.search(r"&(?!amp;|lt;|gt;|quot;|#\d+;|#x[0-9a-f]+;)", html_text), (
        "an unescaped or broken entity"
    )
    return checker.text


def citation(n: int, quote: str) -> Citation:
    return Citation(
        n,
        "doc.txt",
        "A <title> & more",
        "Section",
        f"chunk{n}",
        quote,
        0,
        len(quote),
        0.5,
        "2024-01-06",
    )


def long_answer() -> Answer:
    sentences = [
        f'Fact number {i} says that 5 < 6 & "quotes" matter [{i % 3 + 1}].' for i in range(200)
    ]
    text = " ".join(sentences)
    assert len(text) > 10_000
    return Answer(
        "q", text, True, "extractive", tuple(citation(n, f"Quote {n} <b>") for n in (1, 2, 3))
    )


def test_a_10000_character_answer_splits_into_valid_messages() -> None:
    rendered = render_answer(long_answer(), show_quotes=True)
    assert len(rendered.parts) >= 3
    joined = ""
    for part in rendered.parts:
        assert utf16_length(part) <= MESSAGE_LIMIT
        joined += visible(part) + " "
    markers = re.findall(r"\[\d+\]", joined)
    assert len(markers) == 200 + 3  # none was cut; 3 more head the sources
    assert '5 < 6 & "quotes"' in joined  # escaped, and shown as written
    assert "Quote 3 <b>" in joined
    assert "A <title> & more" in joined


def test_sources_toggle_changes_only_the_last_message() -> None:
    answer = long_answer()
    shown = render_answer(answer, show_quotes=True)
    hidden = render_answer(answer, show_quotes=False)
    assert shown.togglable
    assert shown.parts[:-1] == hidden.parts[:-1]
    assert "<blockquote expandable>" in shown.parts[-1]
    assert "blockquote" not in hidden.parts[-1]


def test_a_short_answer_is_one_message_with_its_sources() -> None:
    answer = Answer("q", "Short [1]", True, "extractive", (citation(1, "Short."),))
    rendered = render_answer(answer, show_quotes=True)
    assert len(rendered.parts) == 1
    assert visible(rendered.parts[0]).startswith("Short [1]\n\nSources\n[1] A <title> & more")


def test_a_declined_answer_names_the_closest_documents() -> None:
    answer = Answer("q", "no", False, "extractive", (), ("First doc", "Second <doc>"))
    rendered = render_answer(answer, show_quotes=True)
    text = visible(rendered.parts[0])
    assert "The documents don't cover this." in text
    assert "Second <doc>" in text
    assert text.endswith("For a cited overview of the documents: /brief")
    assert not rendered.togglable


def test_the_closest_passage_is_shown_as_such_with_its_quote() -> None:
    text = f"{NOT_EXACTLY} The quay opens in May. [1]"
    answer = Answer("q", text, False, "extractive", (citation(1, "The quay opens in May."),))
    shown = visible(render_answer(answer, show_quotes=True).parts[0])
    assert shown.startswith(NOT_EXACTLY)
    assert "The documents don't cover this." not in shown
    assert "The quay opens in May." in shown.split("Sources")[1]


def test_split_text_never_exceeds_the_limit_even_for_one_huge_word() -> None:
    pieces = split_text("&" * 5000 + " tail", 1000)
    assert all(utf16_length(piece) <= 1000 for piece in pieces)
    assert "".join(visible(piece) for piece in pieces).replace(" ", "") == "&" * 5000 + "tail"


@pytest.mark.parametrize("answer_id", ["0123456789ab", "f" * 12])
def test_callback_data_fits_telegram_limit(answer_id: str) -> None:
    keyboard = answer_keyboard(answer_id, showing_quotes=True, togglable=True)
    for button in keyboard.inline_keyboard[0]:
        assert isinstance(button.callback_data, str)
        assert len(button.callback_data.encode()) <= 64


def test_a_misspelt_word_read_as_another_is_said_above_the_answer() -> None:
    read_as = (("Jusin", "Justin"), ("<Logn>", "Logan"))
    answer = Answer(
        "q", "Short [1]", True, "extractive", (citation(1, "Short."),), read_as=read_as
    )
    shown = visible(render_answer(answer, show_quotes=True).parts[0])
    assert shown.startswith(
        "I searched for \u201cJustin\u201d (you wrote \u201cJusin\u201d).\n"
        "I searched for \u201cLogan\u201d (you wrote \u201c<Logn>\u201d).\nShort [1]"
    )
    declined = Answer("q", "no", False, "extractive", (), read_as=read_as[:1])
    russian = visible(render_answer(declined, show_quotes=True, messages=Messages("ru")).parts[0])
    assert russian.startswith("Я искал \u00abJustin\u00bb (вы написали \u00abJusin\u00bb).\n")
    assert "В документах об этом ничего нет." in russian


def test_an_answer_keeps_its_read_as_through_json() -> None:
    answer = Answer("q", "Short [1]", True, "extractive", (), read_as=(("Jusin", "Justin"),))
    data = answer.to_json()
    assert data["read_as"] == {"Jusin": "Justin"}
    assert Answer.from_json(data) == answer
    del data["read_as"]  # as answers logged before it were stored
    assert Answer.from_json(data).read_as == ()
