"""Admin handlers: reload, rollback, list, upload and remove documents. Admins are gated where
the handlers are registered (bot/app.py); every action, and every refused attempt, is audited.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from html import escape
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ParseMode

from bot.briefings import after_reload
from bot.context import BriefContext, Services
from bot.render import pack
from retrieval.errors import BriefbotError, DocumentError
from retrieval.models import DocumentInfo, IngestReport
from retrieval.sources.worker import Extractor
from retrieval.storage import write_atomically

NOT_ADMIN = "Sorry, only the bot's admins can manage documents."
# What /remove puts on its Remove button: the index version and the document's position.
_REMOVE_DATA = re.compile(r"rm:([0-9]+):([0-9]+)")


def _who(user: User | None) -> tuple[int, str]:
    return (user.id, user.username or user.full_name) if user else (0, "unknown")


async def _audit(
    services: Services, user: User | None, action: str, result: str, **detail: object
) -> None:
    user_id, name = _who(user)
    await asyncio.to_thread(services.state.audit.record, user_id, name, action, result, **detail)


def render_report(report: IngestReport) -> str:
    if not report.changed:
        return f"Nothing changed: index v{report.version}, {report.documents} documents."
    return (
        f"<b>Reloaded: index v{report.version}</b> in {report.seconds:.1f} s\n"
        f"Documents: {report.documents_added} added, {report.documents_updated} updated, "
        f"{report.documents_removed} removed ({report.documents} in all)\n"
        f"Passages: {report.chunks_added} added, {report.chunks_removed} removed "
        f"({report.chunks} in all)"
    )


def _failure_text(error: BriefbotError) -> str:
    """What went wrong, with each failing file on its own line; nothing was changed."""
    return escape(str(error), quote=False)


async def refuse(update: Update, context: BriefContext) -> None:
    """An admin command or an upload from someone who is not an admin."""
    message = update.effective_message
    if message is None:
        return
    action = (message.text or "").split(" ")[0] or ("upload" if message.document else "?")
    await _audit(context.services, update.effective_user, action, "refused: not an admin")
    if not context.services.settings.admin_ids:
        await message.reply_text(NOT_ADMIN + " (No admins are configured: BRIEFBOT_ADMIN_IDS.)")
    else:
        await message.reply_text(NOT_ADMIN)


async def reload(update: Update, context: BriefContext) -> None:
    """/reload: re-read the sources dir; questions are answered from the old index meanwhile."""
    message = update.effective_message
    if message is not None:
        await _reload(message, update.effective_user, context, "/reload")


async def _reload(
    message: Message, user: User | None, context: BriefContext, action: str, **detail: object
) -> IngestReport | None:
    services = context.services
    await message.reply_text("Reloading the documents\u2026")
    try:
        report = await asyncio.to_thread(services.knowledge.ingest, False)
    except BriefbotError as error:
        await _audit(services, user, action, f"failed: {error}", **detail)
        await message.reply_text(
            "Reload failed; the documents in use are unchanged.\n" + _failure_text(error),
            parse_mode=ParseMode.HTML,
        )
        return None
    await _audit(
        services, user, action, "ok", version=report.version, changed=report.changed, **detail
    )
    await message.reply_text(render_report(report), parse_mode=ParseMode.HTML)
    if report.changed:
        context.application.create_task(after_reload(context.bot, services))
    return report


async def rollback(update: Update, context: BriefContext) -> None:
    """/rollback: serve the previous index version again."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    try:
        manifest = await asyncio.to_thread(services.knowledge.rollback)
    except BriefbotError as error:
        await _audit(services, update.effective_user, "/rollback", f"failed: {error}")
        await message.reply_text(f"Rollback failed: {error}")
        return
    await _audit(services, update.effective_user, "/rollback", "ok", version=manifest.version)
    await message.reply_text(
        f"Rolled back: serving index v{manifest.version} ({len(manifest.documents)} documents, "
        f"built {manifest.created_at}) until the next /reload."
    )


def _describe(document: DocumentInfo) -> str:
    added = document.added_at[:16].replace("T", " ") or "before tracking"
    details = [
        f"<code>{escape(document.doc_id)}</code>",
        escape(document.date or "no date"),
        f"{document.size_bytes / 1024:.1f} KB",
        f"{document.chunks} passages",
        f"added {escape(added)}",
    ]
    return f"<b>{escape(document.title, quote=False)}</b>\n" + " \u00b7 ".join(details)


async def docs(update: Update, context: BriefContext) -> None:
    """/docs: every document with its date, size, passages and when it was added."""
    message = update.effective_message
    if message is None:
        return
    manifest = await asyncio.to_thread(context.services.knowledge.manifest)
    blocks = [f"<b>Index v{manifest.version}</b>, {len(manifest.documents)} documents"]
    blocks += [_describe(document) for document in manifest.documents]
    for part in pack(blocks):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


def _find(documents: tuple[DocumentInfo, ...], wanted: str) -> list[int]:
    """Indexes of the documents `wanted` names: its path or file name, else a unique part of
    its title or path."""
    wanted = wanted.strip().lower()
    exact = [
        i for i, d in enumerate(documents) if wanted in (d.doc_id.lower(), d.file_name.lower())
    ]
    if exact or not wanted:
        return exact
    return [
        i
        for i, d in enumerate(documents)
        if wanted in d.title.lower() or wanted in d.doc_id.lower()
    ]


async def remove(update: Update, context: BriefContext) -> None:
    """/remove <document>: asks for confirmation with a button."""
    message = update.effective_message
    if message is None:
        return
    wanted = " ".join(context.args or [])
    manifest = await asyncio.to_thread(context.services.knowledge.manifest)
    found = _find(manifest.documents, wanted)
    if len(found) != 1:
        names = ", ".join(manifest.documents[i].doc_id for i in found[:5])
        hint = f"Several match: {names}." if found else "None matches; see /docs."
        await message.reply_text(f"Which document? Use /remove <file name>. {hint}")
        return
    document = manifest.documents[found[0]]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Remove", callback_data=f"rm:{manifest.version}:{found[0]}"),
                InlineKeyboardButton("Cancel", callback_data="rm:cancel"),
            ]
        ]
    )
    await message.reply_text(
        f"Remove {_describe(document)}?", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def remove_button(update: Update, context: BriefContext) -> None:
    """The Remove/Cancel buttons; the index must not have changed since they were shown."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    services = context.services
    if query.from_user.id not in services.settings.admin_ids:
        await _audit(services, query.from_user, "remove", "refused: not an admin")
        await query.answer(NOT_ADMIN, show_alert=True)
        return
    await query.answer()
    if query.data == "rm:cancel":
        await query.edit_message_text("Nothing was removed.")
        return
    shown = _REMOVE_DATA.fullmatch(query.data)
    if shown is None:  # not a button /remove made: "rm:1:-1" once removed the last document
        await query.edit_message_text("That button is not valid; nothing was removed.")
        return
    version, index = int(shown[1]), int(shown[2])
    manifest = await asyncio.to_thread(services.knowledge.manifest)
    if manifest.version != version or index >= len(manifest.documents):
        await query.edit_message_text("The documents changed since; please use /remove again.")
        return
    document = manifest.documents[index]
    path = services.settings.sources_dir / document.doc_id
    if services.documents_lock.locked():
        await query.edit_message_text("Another document change is running; try again shortly.")
        return
    async with services.documents_lock:
        await query.edit_message_text(
            f"Removing {escape(document.title, quote=False)}\u2026", parse_mode=ParseMode.HTML
        )
        # Nothing is lost: the file moves to the trash, and back unless the reload succeeds.
        # shutil.move, not a rename: in the image the sources and the data dir are two volumes.
        trash = _trash_path(services, path.name)
        if path.exists():
            await asyncio.to_thread(shutil.move, path, trash)
        report = None
        try:
            report = await _reload(
                query.message, query.from_user, context, "remove", document=document.doc_id
            )
        finally:
            if report is None and trash.exists():
                await asyncio.to_thread(shutil.move, trash, path)


def _trash_path(services: Services, name: str) -> Path:
    trash = services.settings.data_dir / "removed"
    trash.mkdir(parents=True, exist_ok=True)
    return trash / f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{name}"


def safe_file_name(file_name: str, suffix: str) -> str:
    """A file name that stays inside the sources dir: no directories, no leading dots."""
    base = re.split(r"[\\/]", file_name)[-1]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(base).stem).strip(".-_")[:80] or "document"
    return stem + suffix


async def group_upload(update: Update, context: BriefContext) -> None:
    """An admin sends a document in a group: uploads are for the private chat, where the
    replies about it (and any mistake in it) stay between the admin and the bot."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(
            "To add a document, send it to me in a private chat: "
            f"https://t.me/{context.bot.username}"
        )


async def upload(update: Update, context: BriefContext, extractor: Extractor) -> None:
    """An admin sends a document: check it, save it under a safe name, index it, report.
    Reading it runs in `extractor`'s child process, bounded in time and memory."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    services = context.services
    settings = services.settings
    document = message.document
    name = document.file_name or "document"
    limit = settings.max_document_bytes
    if document.file_size and document.file_size > limit:
        await _reject(
            message, update.effective_user, services, name, f"is larger than {limit:,} bytes"
        )
        return
    telegram_file = await document.get_file()  # its file_path holds the token: never log it
    data = bytes(await telegram_file.download_as_bytearray())
    try:
        extracted = await extractor.extract(data, name, limit)
    except DocumentError as error:
        await _reject(message, update.effective_user, services, name, str(error))
        return
    as_text = extracted.kind in ("text", "markdown")
    suffix = Path(name).suffix.lower() if as_text else ".md"
    target = settings.sources_dir / safe_file_name(name, suffix)
    replacing = (message.caption or "").strip().lower() == "replace"
    if target.exists() and not replacing:
        await message.reply_text(
            f"A document named {target.name} already exists. Send the file again with the "
            "caption \u201creplace\u201d to replace it."
        )
        return
    if services.documents_lock.locked():
        await message.reply_text("Another document change is running; try again shortly.")
        return
    async with services.documents_lock:
        # A replaced file goes to the trash first: nothing is lost, whatever happens next.
        backup = _trash_path(services, target.name) if target.exists() else None
        if backup is not None:
            shutil.copy2(target, backup)
        write_atomically(target, data if as_text else extracted.markdown.encode("utf-8"))
        report = None
        try:
            report = await _reload(
                message, update.effective_user, context, "upload", document=target.name
            )
        finally:
            if report is None:  # the index did not change: leave the sources dir as it was
                if backup is None:
                    target.unlink(missing_ok=True)
                else:
                    shutil.copy2(backup, target)
    if report is not None:
        await message.reply_text(await _summary(services, target.name), parse_mode=ParseMode.HTML)


async def _summary(services: Services, doc_id: str) -> str:
    manifest = await asyncio.to_thread(services.knowledge.manifest)
    info = next(d for d in manifest.documents if d.doc_id == doc_id)
    examples = await asyncio.to_thread(services.knowledge.example_questions, 1, doc_id)
    sections = ", ".join(escape(s, quote=False) for s in info.sections) or "none found"
    lines = [
        f"<b>{escape(info.title, quote=False)}</b> is in ({escape(doc_id)}).",
        f"Sections: {sections}. Passages: {info.chunks}.",
    ]
    if examples:
        lines.append(f"You can now ask, for example: <i>{escape(examples[0], quote=False)}</i>")
    return "\n".join(lines)


async def _reject(
    message: Message, user: User | None, services: Services, name: str, reason: str
) -> None:
    await _audit(services, user, "upload", f"rejected: {reason}", document=name)
    await message.reply_text(f"I did not add {name}: it {reason}. Nothing was changed.")
