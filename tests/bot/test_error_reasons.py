"""Errors from retrieval/ said in the admin's language: every reason code raised has its text
in the catalog, the English is the error's own message, and end to end over the fake Bot API
a German or Russian admin reads why an upload, a /reload or a /rollback failed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.messages import CATALOG, ENGLISH, Messages, error_text
from retrieval.errors import REASONS, BriefbotError, DocumentError, IngestError
from retrieval.sources.documents import decode_source
from retrieval.sources.extract import _EXPECTED, _FOUND, extract
from tests.bot.conftest import ADMIN, RunningBot, send_file
from tests.bot.test_messages import next_text, speaks

ROOT = Path(__file__).resolve().parents[2]


def raised_reasons() -> set[str]:
    """The reason codes given to a BriefbotError anywhere in retrieval/ and bot/: a literal
    second argument or reason=. QuestionError's are worded as question_<reason> instead."""
    reasons: set[str] = set()
    for path in sorted([*(ROOT / "retrieval").rglob("*.py"), *(ROOT / "bot").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if not name.endswith("Error") or name == "QuestionError":
                continue
            given = [keyword.value for keyword in node.keywords if keyword.arg == "reason"]
            if name != "IngestError":  # its second argument is the failures
                given += node.args[1:2]
            reasons |= {
                value.value
                for value in given
                if isinstance(value, ast.Constant) and isinstance(value.value, str)
            }
    return reasons


def test_every_reason_raised_is_registered_and_has_its_text() -> None:
    assert raised_reasons() == REASONS
    assert {f"error_{reason}" for reason in REASONS} - set(CATALOG) == set()


def test_the_kinds_of_file_a_mismatch_names_have_their_texts() -> None:
    for suffix, english in _EXPECTED.items():
        assert CATALOG[f"error_expected_{suffix.removeprefix('.')}"]["en"] == english
    for kind, english in _FOUND.items():
        assert CATALOG[f"error_found_{kind}"]["en"] == english


def document_error(data: bytes, name: str, max_bytes: int = 1000) -> DocumentError:
    with pytest.raises(DocumentError) as raised:
        extract(data, name, max_bytes)
    return raised.value


def errors() -> list[BriefbotError]:
    """Real errors of many reasons, as the code under test raises them."""
    documents = [
        document_error(b"", "empty.txt"),
        document_error(b"x" * 2000, "big.txt"),
        document_error(b"\x00\x01binary", "data.txt"),
        document_error(b"MZ\x90\x00\x03" + b"\x00" * 200, "setup.pdf"),
        document_error(b"%PDF-1.4 not really", "report.html"),
        document_error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.docx"),
        document_error(b"\xff\xfeh\x00i\x00", "wide.txt"),
        document_error(b"text", "notes"),
        document_error(b"text", "notes.rtf"),
        document_error(b"%PDF-1.4\ngarbage", "broken.pdf"),
        document_error(b"<html><body><h1>Title</h1><h2>Costs</h2></body></html>", "heads.html"),
    ]
    with pytest.raises(DocumentError) as not_utf8:
        decode_source(b"caf\xe9")
    ingest = IngestError(
        "nothing was changed: 2 of 5 source files cannot be used",
        {"a<b>.txt": documents[0], "c.md": documents[3]},
        reason="sources_unusable",
        failed=2,
        total=5,
    )
    return [*documents, not_utf8.value, ingest]


def test_the_english_text_of_every_reason_is_the_errors_own_message() -> None:
    samples = errors()
    assert len({error.reason for error in samples}) == len(samples)  # one of each
    for error in samples:
        assert error_text(error, ENGLISH) == str(error)


def test_other_languages_word_the_reason_and_escape_names_for_html() -> None:
    ingest = errors()[-1]
    german = error_text(ingest, Messages("de"), html=True)
    assert german == (
        "nichts wurde geändert: 2 von 5 Quelldateien sind nicht verwendbar"
        "\n  a&lt;b&gt;.txt: die Datei ist leer"
        "\n  c.md: die Datei sollte ein PDF sein (sie sieht aus wie ein Windows-Programm)"
    )
    assert error_text(ingest, Messages("ru")).endswith(
        "\n  c.md: это не PDF (похоже на программу для Windows)"
    )


def test_an_error_without_a_known_reason_is_said_in_english() -> None:
    unknown = BriefbotError("the <thing> broke", "a_reason_newer_than_the_catalog")
    assert error_text(unknown, Messages("ru")) == "the <thing> broke"
    assert error_text(BriefbotError("the <thing> broke"), Messages("de"), html=True) == (
        "the &lt;thing&gt; broke"
    )


# --- end to end over the fake Bot API ----------------------------------------------------


async def test_a_german_admin_reads_why_an_upload_was_rejected(admin_bot: RunningBot) -> None:
    api = admin_bot.api
    speaks(api, ADMIN, "de")
    await next_text(api, ADMIN)
    send_file(api, "leer.txt", "text/plain", b"")
    assert await next_text(api, ADMIN) == (
        "Ich habe leer.txt nicht hinzugefügt (Grund: die Datei ist leer). Nichts wurde geändert."
    )
    send_file(api, "gross.txt", "text/plain", b"word " * 50_000)
    assert await next_text(api, ADMIN) == (
        "Ich habe gross.txt nicht hinzugefügt (Grund: die Datei ist größer als 200,000 Byte). "
        "Nichts wurde geändert."
    )
    send_file(api, "daten.txt", "text/plain", b"\x00\x01\x02binary")
    assert await next_text(api, ADMIN) == (
        "Ich habe daten.txt nicht hinzugefügt (Grund: die Datei ist eine Binärdatei, kein "
        "Text). Nichts wurde geändert."
    )
    rejected = [e for e in admin_bot.services.state.audit.entries() if e["action"] == "upload"]
    assert rejected[-1]["result"] == "rejected: is a binary file, not text"  # logs stay English


async def test_a_russian_admin_reads_why_a_reload_and_a_rollback_failed(
    admin_bot: RunningBot,
) -> None:
    api, sources = admin_bot.api, admin_bot.services.settings.sources_dir
    speaks(api, ADMIN, "ru")
    await next_text(api, ADMIN)
    api.private_message("/rollback", user_id=ADMIN)
    assert await next_text(api, ADMIN) == (
        "Откат не удался: нет предыдущей версии индекса, к которой можно откатиться"
    )
    (sources / "<сломан>.txt").write_bytes(b"\xff\xfe\x00binary")
    api.private_message("/reload", user_id=ADMIN)
    await next_text(api, ADMIN)  # "reloading"
    failed = await api.wait_for("sendMessage", lambda p: "parse_mode" in p, timeout=60)
    assert failed.params["parse_mode"] == "HTML"
    text = str(failed.params["text"])
    assert text.startswith("Перезагрузка не удалась; используемые документы не изменились.\n")
    assert "ничего не изменено: 1 из " in text
    assert text.endswith("\n  &lt;сломан&gt;.txt: это двоичный файл, а не текст")
