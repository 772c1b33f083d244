"""Admins manage documents through the bot: end to end over the fake Bot API."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document as DocxDocument
from fpdf import FPDF

from bot.app import build_application
from bot.context import Services
from config import Settings
from retrieval.composition import open_knowledge_base
from tests.bot.conftest import ADMIN, RunningBot, send_file
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.serving import serving
from tests.retrieval.sources.test_extract_bounds import slow_docx, started_worker, worker_children

STRANGER = 2222
GROUP = -100123
BRIDGE = "The Riverside bridge will cost 42 million euros and open in 2027."


def pdf_bytes(text: str | None) -> bytes:
    pdf = FPDF()
    pdf.set_title("Bridge report")
    pdf.add_page()
    if text is not None:
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def docx_bytes() -> bytes:
    document = DocxDocument()
    document.add_heading("Bridge report", level=0)
    document.add_heading("Costs", level=1)
    document.add_paragraph(BRIDGE)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


UPLOADS = {
    "bridge.txt": ("text/plain", f"Bridge report\n\n{BRIDGE}\n".encode()),
    "bridge.md": ("text/markdown", f"# Bridge report\n\n## Costs\n\n{BRIDGE}\n".encode()),
    "bridge.html": (
        "text/html",
        (
            "<html><head><title>Bridge report</title><script>var x = 1;</script></head>"
            "<body><nav>Home | News | Contact</nav><main><h1>Bridge report</h1><h2>Costs</h2>"
            f"<p>{BRIDGE}</p></main><footer>Copyright</footer></body></html>"
        ).encode(),
    ),
    "bridge.docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        docx_bytes(),
    ),
    "bridge.pdf": ("application/pdf", pdf_bytes(BRIDGE)),
}


async def reply_text(api: FakeBotApi) -> str:
    return str((await api.wait_for("sendMessage", timeout=30)).params["text"])


def listing(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


def audit(bot: RunningBot) -> list[dict[str, object]]:
    return bot.services.state.audit.entries()


@pytest.mark.parametrize("name", list(UPLOADS))
async def test_an_admin_upload_is_indexed_and_answers_with_a_citation(
    admin_bot: RunningBot, name: str
) -> None:
    mime, content = UPLOADS[name]
    send_file(admin_bot.api, name, mime, content)
    assert "Reloading" in await reply_text(admin_bot.api)
    report = await reply_text(admin_bot.api)
    assert "1 added" in report
    summary = await reply_text(admin_bot.api)
    assert "Bridge report" in summary
    assert "Passages: 1" in summary
    admin_bot.api.private_message("How much will the Riverside bridge cost?", user_id=ADMIN)
    answer = await reply_text(admin_bot.api)
    assert "42 million euros" in answer
    assert "Bridge report" in answer  # the cited source is the upload
    entry = audit(admin_bot)[-1]
    assert entry["action"] == "upload"
    assert entry["result"] == "ok"
    assert entry["user_id"] == ADMIN
    assert entry["document"] in {"bridge.txt", "bridge.md"}


@pytest.mark.parametrize(
    ("name", "mime", "content", "reason"),
    [
        ("big.txt", "text/plain", b"word " * 50_000, "larger than 200,000 bytes"),
        ("setup.pdf", "application/pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "not a PDF"),
        ("../../etc/passwd", "text/plain", b"root:x:0:0:root:/root:/bin/bash\n", "passwd"),
        ("empty.txt", "text/plain", b"", "empty"),
        ("scan.pdf", "application/pdf", pdf_bytes(None), "no text layer"),
    ],
)
async def test_a_bad_upload_is_rejected_with_its_reason_and_changes_nothing(
    admin_bot: RunningBot, name: str, mime: str, content: bytes, reason: str
) -> None:
    sources = admin_bot.services.settings.sources_dir
    before = listing(sources)
    version = admin_bot.services.knowledge.manifest().version
    send_file(admin_bot.api, name, mime, content)
    text = await reply_text(admin_bot.api)
    assert "I did not add" in text
    assert reason in text
    assert "Nothing was changed" in text
    assert listing(sources) == before
    assert admin_bot.services.knowledge.manifest().version == version
    assert audit(admin_bot)[-1]["result"].startswith("rejected")  # type: ignore[union-attr]


async def test_strangers_cannot_reload_upload_or_remove(admin_bot: RunningBot) -> None:
    for command in ("/reload", "/rollback", "/docs", "/remove seeds"):
        admin_bot.api.private_message(command, user_id=STRANGER)
        assert "only the bot's admins" in await reply_text(admin_bot.api)
    send_file(admin_bot.api, "bridge.txt", "text/plain", UPLOADS["bridge.txt"][1], STRANGER)
    assert "only the bot's admins" in await reply_text(admin_bot.api)
    assert not (admin_bot.services.settings.sources_dir / "bridge.txt").exists()
    refusals = audit(admin_bot)
    assert len(refusals) == 5
    assert all(entry["user_id"] == STRANGER for entry in refusals)
    assert all(entry["result"] == "refused: not an admin" for entry in refusals)


async def test_reload_reports_changes_and_a_broken_file_keeps_the_index(
    admin_bot: RunningBot,
) -> None:
    api, sources = admin_bot.api, admin_bot.services.settings.sources_dir
    api.private_message("/reload", user_id=ADMIN)
    await reply_text(api)
    assert "Nothing changed" in await reply_text(api)
    (sources / "bridge.txt").write_text(f"Bridge report\n\n{BRIDGE}\n", encoding="utf-8")
    (sources / "broken.txt").write_bytes(b"\xff\xfe\x00binary")
    api.private_message("/reload", user_id=ADMIN)
    await reply_text(api)
    failed = await reply_text(api)
    assert "Reload failed; the documents in use are unchanged." in failed
    assert "broken.txt is a binary file" in failed
    (sources / "broken.txt").unlink()
    api.private_message("/reload", user_id=ADMIN)
    await reply_text(api)
    report = await reply_text(api)
    assert "1 added" in report
    api.private_message("/docs", user_id=ADMIN)
    listing = await reply_text(api)
    assert "bridge.txt" in listing
    assert "added 20" in listing


async def test_remove_asks_first_and_keeps_the_file(admin_bot: RunningBot) -> None:
    api, sources = admin_bot.api, admin_bot.services.settings.sources_dir
    (sources / "bridge.txt").write_text(f"Bridge report\n\n{BRIDGE}\n", encoding="utf-8")
    api.private_message("/reload", user_id=ADMIN)
    await reply_text(api)
    await reply_text(api)
    api.private_message("/remove bridge", user_id=ADMIN)
    ask = await api.wait_for("sendMessage")
    assert "Remove" in ask.params["text"]
    assert ask.result is not None
    confirm, cancel = (
        b["callback_data"] for b in ask.params["reply_markup"]["inline_keyboard"][0]
    )
    api.callback_query(cancel, ask.result, user_id=ADMIN)
    assert "Nothing was removed" in (await api.wait_for("editMessageText")).params["text"]
    api.callback_query(confirm, ask.result, user_id=STRANGER)
    refused = await api.wait_for("answerCallbackQuery", lambda p: "admins" in p["text"])
    assert refused.params["show_alert"] is True
    api.callback_query(confirm, ask.result, user_id=ADMIN)
    await api.wait_for("editMessageText")
    await reply_text(api)  # Reloading…
    assert "1 removed" in await reply_text(api)
    assert not (sources / "bridge.txt").exists()
    trash = list((admin_bot.services.settings.data_dir / "removed").iterdir())
    assert [path.name.endswith("-bridge.txt") for path in trash] == [True]  # kept, not lost
    api.private_message("How much will the Riverside bridge cost?", user_id=ADMIN)
    assert "don't cover" in await reply_text(api)


async def test_rollback_returns_to_the_index_before_the_last_reload(admin_bot: RunningBot) -> None:
    api, sources = admin_bot.api, admin_bot.services.settings.sources_dir
    api.private_message("/rollback", user_id=ADMIN)
    assert "no previous index version" in await reply_text(api)
    (sources / "bridge.txt").write_text(f"Bridge report\n\n{BRIDGE}\n", encoding="utf-8")
    api.private_message("/reload", user_id=ADMIN)
    await reply_text(api)
    await reply_text(api)
    api.private_message("How much will the Riverside bridge cost?", user_id=ADMIN)
    assert "42 million euros" in await reply_text(api)
    api.private_message("/rollback", user_id=ADMIN)
    assert "Rolled back: serving index v1" in await reply_text(api)
    api.private_message("How much will the Riverside bridge cost?", user_id=ADMIN)
    assert "don't cover" in await reply_text(api)
    api.private_message("/sources", user_id=STRANGER)
    assert "index v1" in await reply_text(api)


async def test_an_admin_upload_in_a_group_points_to_the_private_chat(
    admin_bot: RunningBot,
) -> None:
    api = admin_bot.api
    for user_id in (STRANGER, ADMIN):  # one chat's updates run in order: the stranger's first
        file_id = f"group-file-{user_id}"
        api.add_file(file_id, UPLOADS["bridge.txt"][1])
        api.document_message(
            file_id,
            "bridge.txt",
            "text/plain",
            chat_type="supergroup",
            chat_id=GROUP,
            user_id=user_id,
        )
    reply = await api.wait_for("sendMessage")
    assert reply.params["chat_id"] == GROUP
    assert "private chat" in reply.params["text"]
    assert "https://t.me/BriefingBot" in reply.params["text"]
    assert len(api.calls_of("sendMessage")) == 1  # the stranger's file got no answer
    assert api.calls_of("getFile") == []  # nothing was downloaded
    assert not (admin_bot.services.settings.sources_dir / "bridge.txt").exists()


async def test_a_crafted_remove_button_removes_nothing(admin_bot: RunningBot) -> None:
    api, sources = admin_bot.api, admin_bot.services.settings.sources_dir
    (sources / "bridge.txt").write_text(f"Bridge report\n\n{BRIDGE}\n", encoding="utf-8")
    api.private_message("/reload", user_id=ADMIN)
    await reply_text(api)
    await reply_text(api)
    before, documents = listing(sources), len(admin_bot.services.knowledge.manifest().documents)
    version = admin_bot.services.knowledge.manifest().version
    api.private_message("/remove bridge", user_id=ADMIN)
    ask = await api.wait_for("sendMessage")
    assert ask.result is not None
    for data, outcome in (  # alternating, so that each edit changes the message
        (f"rm:{version}:-1", "not valid"),  # once removed the last document
        (f"rm:{version}:{documents}", "changed since"),
        (f"rm:{version}:x", "not valid"),
        (f"rm:{version + 1}:0", "changed since"),
        (f"rm:{version}:1:2", "not valid"),
    ):
        api.callback_query(data, ask.result, user_id=ADMIN)
        edit = await api.wait_for("editMessageText")
        assert edit.ok
        assert outcome in edit.params["text"]
    assert listing(sources) == before
    assert admin_bot.services.knowledge.manifest().version == version
    assert not (admin_bot.services.settings.data_dir / "removed").exists()


async def test_stopping_the_bot_does_not_wait_for_an_upload_being_read(
    bot_settings: Callable[..., Settings], api: FakeBotApi
) -> None:
    settings = bot_settings(admin_ids=(ADMIN,), max_document_bytes=200_000)
    services = Services.create(settings, open_knowledge_base(settings))
    before = listing(settings.sources_dir)
    slow = slow_docx(700_000)  # inside the caps: indexed after 30-50 s of reading
    async with serving(build_application(settings, services), api):
        send_file(api, "slow.docx", UPLOADS["bridge.docx"][0], slow)
        await started_worker()
    assert worker_children() == []
    told = [call.params["text"] for call in api.calls_of("sendMessage")]
    assert told == [
        "I did not add slow.docx: it was not read because the bot is shutting down; send it "
        "again in a minute. Nothing was changed."
    ]
    assert listing(settings.sources_dir) == before
