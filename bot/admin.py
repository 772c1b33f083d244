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
from bot.messages import Messages, chat_messages, error_text
from bot.progress import ReloadProgress
from bot.render import pack
from retrieval.errors import BriefbotError, DocumentError
from retrieval.models import DocumentInfo, IngestReport
from retrieval.sources.worker import Extractor
from retrieval.storage import write_atomically

# What /remove puts on its Remove button: the index version and the document's position.
_REMOVE_DATA = re.compile(r"rm:([0-9]+):([0-9]+)")


def _who(user: User | None) -> tuple[int, str]:
    return (user.id, user.username or user.full_name) if user else (0, "unknown")


async def _audit(
    services: Services, user: User | None, action: str, result: str, **detail: object
) -> None:
    user_id, name = _who(user)
    await asyncio.to_thread(services.state.audit.record, user_id, name, action, result, **detail)


def render_report(report: IngestReport, texts: Messages) -> str:
    if not report.changed:
        return texts.get("reload_unchanged", version=report.version, documents=report.documents)
    return texts.get(
        "reload_report",
        version=report.version,
        seconds=f"{report.seconds:.1f}",
        added=report.documents_added,
        updated=report.documents_updated,
        removed=report.documents_removed,
        documents=report.documents,
        chunks_added=report.chunks_added,
        chunks_removed=report.chunks_removed,
        chunks=report.chunks,
    )


async def refuse(update: Update, context: BriefContext) -> None:
    """An admin command or an upload from someone who is not an admin."""
    message = update.effective_message
    if message is None:
        return
    action = (message.text or "").split(" ")[0] or ("upload" if message.document else "?")
    await _audit(context.services, update.effective_user, action, "refused: not an admin")
    texts = await chat_messages(update, context)
    configured = bool(context.services.settings.admin_ids)
    await message.reply_text(texts.get("not_admin" if configured else "not_admin_none_configured"))


async def reload(update: Update, context: BriefContext) -> None:
    """/reload: re-read the sources dir; questions are answered from the old index meanwhile."""
    message = update.effective_message
    if message is not None:
        texts = await chat_messages(update, context)
        await _reload(message, update.effective_user, context, texts, "/reload")


async def _reload(
    message: Message,
    user: User | None,
    context: BriefContext,
    texts: Messages,
    action: str,
    **detail: object,
) -> IngestReport | None:
    services = context.services
    reloading = await message.reply_text(texts.get("reloading"))
    progress = ReloadProgress(reloading, texts, asyncio.get_running_loop())
    try:
        report = await asyncio.to_thread(services.knowledge.ingest, False, progress)
    except BriefbotError as error:
        await _audit(services, user, action, f"failed: {error}", **detail)
        await message.reply_text(
            texts.get("reload_failed", reason=error_text(error, texts, html=True)),
            parse_mode=ParseMode.HTML,
        )
        return None
    await _audit(
        services, user, action, "ok", version=report.version, changed=report.changed, **detail
    )
    await message.reply_text(render_report(report, texts), parse_mode=ParseMode.HTML)
    if report.changed:
        context.application.create_task(after_reload(context.bot, services))
    return report


async def rollback(update: Update, context: BriefContext) -> None:
    """/rollback: serve the previous index version again."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    texts = await chat_messages(update, context)
    try:
        manifest = await asyncio.to_thread(services.knowledge.rollback)
    except BriefbotError as error:
        await _audit(services, update.effective_user, "/rollback", f"failed: {error}")
        await message.reply_text(texts.get("rollback_failed", reason=error_text(error, texts)))
        return
    await _audit(services, update.effective_user, "/rollback", "ok", version=manifest.version)
    await message.reply_text(
        texts.get(
            "rolled_back",
            version=manifest.version,
            documents=len(manifest.documents),
            built=manifest.created_at,
        )
    )


def _describe(document: DocumentInfo, texts: Messages) -> str:
    added = document.added_at[:16].replace("T", " ") or texts.get("doc_before_tracking")
    details = [
        f"<code>{escape(document.doc_id)}</code>",
        escape(document.date or texts.get("doc_no_date")),
        f"{document.size_bytes / 1024:.1f} KB",
        texts.get("passages", count=document.chunks),
        texts.get("doc_added", when=escape(added)),
    ]
    return f"<b>{escape(document.title, quote=False)}</b>\n" + " \u00b7 ".join(details)


async def docs(update: Update, context: BriefContext) -> None:
    """/docs: every document with its date, size, passages and when it was added."""
    message = update.effective_message
    if message is None:
        return
    manifest = await asyncio.to_thread(context.services.knowledge.manifest)
    texts = await chat_messages(update, context)
    blocks = [
        texts.get("docs_heading", version=manifest.version, documents=len(manifest.documents))
    ]
    blocks += [_describe(document, texts) for document in manifest.documents]
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
    texts = await chat_messages(update, context)
    if len(found) != 1:
        names = ", ".join(manifest.documents[i].doc_id for i in found[:5])
        hint = texts.get("remove_several", names=names) if found else texts.get("remove_none")
        await message.reply_text(texts.get("remove_which", hint=hint))
        return
    document = manifest.documents[found[0]]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.get("remove_button"), callback_data=f"rm:{manifest.version}:{found[0]}"
                ),
                InlineKeyboardButton(texts.get("cancel_button"), callback_data="rm:cancel"),
            ]
        ]
    )
    await message.reply_text(
        texts.get("remove_confirm", document=_describe(document, texts)),
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )


async def remove_button(update: Update, context: BriefContext) -> None:
    """The Remove/Cancel buttons; the index must not have changed since they were shown."""
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    services = context.services
    texts = await chat_messages(update, context)
    if query.from_user.id not in services.settings.admin_ids:
        await _audit(services, query.from_user, "remove", "refused: not an admin")
        await query.answer(texts.get("not_admin"), show_alert=True)
        return
    await query.answer()
    if query.data == "rm:cancel":
        await query.edit_message_text(texts.get("nothing_removed"))
        return
    shown = _REMOVE_DATA.fullmatch(query.data)
    if shown is None:  # not a button /remove made: "rm:1:-1" once removed the last document
        await query.edit_message_text(texts.get("remove_invalid"))
        return
    version, index = int(shown[1]), int(shown[2])
    manifest = await asyncio.to_thread(services.knowledge.manifest)
    if manifest.version != version or index >= len(manifest.documents):
        await query.edit_message_text(texts.get("documents_changed"))
        return
    document = manifest.documents[index]
    path = services.settings.sources_dir / document.doc_id
    if services.documents_lock.locked():
        await query.edit_message_text(texts.get("change_running"))
        return
    async with services.documents_lock:
        await query.edit_message_text(
            texts.get("removing", title=escape(document.title, quote=False)),
            parse_mode=ParseMode.HTML,
        )
        # Nothing is lost: the file moves to the trash, and back unless the reload succeeds.
        # shutil.move, not a rename: in the image the sources and the data dir are two volumes.
        trash = _trash_path(services, path.name)
        if path.exists():
            await asyncio.to_thread(shutil.move, path, trash)
        report = None
        try:
            report = await _reload(
                query.message, query.from_user, context, texts, "remove", document=document.doc_id
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
        texts = await chat_messages(update, context)
        await message.reply_text(
            texts.get("upload_in_private", url=f"https://t.me/{context.bot.username}")
        )


async def upload(update: Update, context: BriefContext, extractor: Extractor) -> None:
    """An admin sends a document: check it, save it under a safe name, index it, report.
    Reading it runs in `extractor`'s child process, bounded in time and memory."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    services = context.services
    settings = services.settings
    texts = await chat_messages(update, context)
    document = message.document
    name = document.file_name or "document"
    limit = settings.max_document_bytes
    if document.file_size and document.file_size > limit:
        await _reject(
            message,
            update.effective_user,
            services,
            texts,
            name,
            DocumentError(f"is larger than {limit:,} bytes", "too_big_to_upload", max_bytes=limit),
        )
        return
    telegram_file = await document.get_file()  # its file_path holds the token: never log it
    data = bytes(await telegram_file.download_as_bytearray())
    try:
        extracted = await extractor.extract(data, name, limit)
    except DocumentError as error:
        await _reject(message, update.effective_user, services, texts, name, error)
        return
    as_text = extracted.kind in ("text", "markdown")
    suffix = Path(name).suffix.lower() if as_text else ".md"
    target = settings.sources_dir / safe_file_name(name, suffix)
    replacing = (message.caption or "").strip().lower() == "replace"
    if target.exists() and not replacing:
        await message.reply_text(texts.get("document_exists", name=target.name))
        return
    if services.documents_lock.locked():
        await message.reply_text(texts.get("change_running"))
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
                message, update.effective_user, context, texts, "upload", document=target.name
            )
        finally:
            if report is None:  # the index did not change: leave the sources dir as it was
                if backup is None:
                    target.unlink(missing_ok=True)
                else:
                    shutil.copy2(backup, target)
    if report is not None:
        await message.reply_text(
            await _summary(services, target.name, texts), parse_mode=ParseMode.HTML
        )


async def _summary(services: Services, doc_id: str, texts: Messages) -> str:
    manifest = await asyncio.to_thread(services.knowledge.manifest)
    info = next(d for d in manifest.documents if d.doc_id == doc_id)
    examples = await asyncio.to_thread(services.knowledge.example_questions, 1, doc_id)
    sections = ", ".join(escape(s, quote=False) for s in info.sections) or texts.get(
        "sections_none"
    )
    lines = [
        texts.get("upload_added", title=escape(info.title, quote=False), doc_id=escape(doc_id)),
        texts.get("upload_sections", sections=sections, count=info.chunks),
    ]
    if examples:
        lines.append(texts.get("upload_example", example=escape(examples[0], quote=False)))
    return "\n".join(lines)


async def _reject(
    message: Message,
    user: User | None,
    services: Services,
    texts: Messages,
    name: str,
    error: DocumentError,
) -> None:
    await _audit(services, user, "upload", f"rejected: {error}", document=name)
    await message.reply_text(
        texts.get("upload_rejected", name=name, reason=error_text(error, texts))
    )
