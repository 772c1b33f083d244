"""`briefbot`: the console front end. It parses arguments, calls the KnowledgeBase, prints.

Exit codes: 0 ok, 1 the work failed (a bad source, an unanswerable input), 2 bad usage or
settings.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from telegram.error import TelegramError

from bot.app import run_bot
from bot.context import Services
from config import Settings, SettingsError, load_settings
from config.logs import configure_logging, redact
from retrieval.composition import open_knowledge_base
from retrieval.errors import BriefbotError, QuestionError
from retrieval.evaluation import HALVES, evaluate, load_questions
from retrieval.llm.check import ModelCheckError, check_model
from retrieval.models import NOT_COVERED, Answer, IngestReport, Turn
from retrieval.service import KnowledgeBase
from retrieval.sources.documents import sources_signature
from retrieval.state.answer_log import AnswerLog

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _print_report(report: IngestReport, out: TextIO) -> None:
    if not report.changed:
        print(
            f"Index v{report.version} is up to date: {report.documents} documents, "
            f"{report.chunks} chunks ({report.seconds:.2f} s).",
            file=out,
        )
        return
    print(
        f"Indexed v{report.version}: {report.documents} documents, {report.chunks} chunks "
        f"in {report.seconds:.2f} s.\n"
        f"  documents: {report.documents_added} added, {report.documents_updated} updated, "
        f"{report.documents_removed} removed\n"
        f"  chunks:    {report.chunks_added} added, {report.chunks_removed} removed "
        f"({report.texts_embedded} texts embedded, the rest from the cache)",
        file=out,
    )


def render_answer(answer: Answer) -> str:
    """The answer and its numbered sources, readable in a terminal."""
    lines = [answer.text]
    if answer.fallback:
        lines.append(f"(extractive answer: the language model's was unusable: {answer.fallback})")
    if answer.citations:
        lines += ["", "Sources:"]
        for citation in answer.citations:
            where = " \u2014 ".join(part for part in (citation.title, citation.section) if part)
            dated = f" ({citation.date})" if citation.date else ""
            lines.append(f"  [{citation.n}] {where}{dated}, {citation.document}")
            lines.append(f"      \u201c{citation.quote}\u201d")
    return "\n".join(lines)


def cmd_ingest(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    sources_dir = args.settings.sources_dir
    watching = getattr(args, "watch", False)
    # Taken before indexing: a file changed while the first ingest runs is still noticed.
    indexed = sources_signature(sources_dir) if watching else ()
    _print_report(kb.ingest(), out)
    if watching:
        _watch(kb, sources_dir, indexed, args.interval, out)
    return EXIT_OK


def _watch(
    kb: KnowledgeBase,
    sources_dir: Path,
    seen: tuple[tuple[str, int, int], ...],
    interval: float,
    out: TextIO,
) -> None:
    """Reload whenever the sources dir differs from `seen` (what was last indexed), once it
    has been quiet for one interval (a file being copied in is not indexed half-written).
    Ctrl-C stops."""
    print(f"Watching {sources_dir} (Ctrl-C stops).", file=out, flush=True)
    try:
        while True:
            time.sleep(interval)
            current = sources_signature(sources_dir)
            if current == seen:
                continue
            while True:  # debounce
                time.sleep(interval)
                settled = sources_signature(sources_dir)
                if settled == current:
                    break
                current = settled
            seen = current
            try:
                _print_report(kb.ingest(), out)
            except BriefbotError as error:
                print(f"briefbot: {error}", file=out, flush=True)
            out.flush()
    except KeyboardInterrupt:
        return


def cmd_brief(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    kb.ensure_index()
    briefing = kb.brief(args.topic)
    if args.json:
        print(json.dumps(briefing.to_json(), ensure_ascii=False), file=out)
        return EXIT_OK
    subject = briefing.topic or "all documents"
    print(f"Briefing: {subject} (index v{briefing.version})\n", file=out)
    if briefing.bottom_line is None:
        print(NOT_COVERED, file=out)
        return EXIT_OK
    line = briefing.bottom_line
    print(f"Bottom line: {line.text} [{line.citation.n}]", file=out)
    for title, points in (
        ("Key points", briefing.key_points),
        ("Positions", briefing.positions),
        ("Unclear or disputed", briefing.unclear),
    ):
        if points:
            print(f"\n{title}:", file=out)
            for point in points:
                print(f"  - {point.text} [{point.citation.n}]", file=out)
    print("\nSources:", file=out)
    for citation in briefing.citations:
        where = " \u2014 ".join(part for part in (citation.title, citation.section) if part)
        print(f"  [{citation.n}] {where}, {citation.document}", file=out)
    return EXIT_OK


def cmd_rollback(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    manifest = kb.rollback()
    print(
        f"Serving index v{manifest.version} again ({len(manifest.documents)} documents, built "
        f"{manifest.created_at}) until the next reload.",
        file=out,
    )
    return EXIT_OK


def _check_llm(settings: Settings) -> int | None:
    """In LLM mode, EXIT_USAGE when the server does not serve BRIEFBOT_LLM_MODEL (or refuses
    the key), before anything starts; None to go on."""
    try:
        check_model(settings)
    except ModelCheckError as error:
        print(f"briefbot: {redact(str(error), settings.secrets())}", file=sys.stderr)
        return EXIT_USAGE
    return None


def cmd_ask(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    if (refused := _check_llm(args.settings)) is not None:
        return refused
    kb.ensure_index()
    status = EXIT_OK
    for question in args.questions:
        try:
            answer = kb.ask(question, args.k)
        except QuestionError as error:
            status = EXIT_FAILED
            if args.json:
                print(json.dumps({"question": question[:200], "error": str(error)}), file=out)
            else:
                print(f"error: {error}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), file=out)
        else:
            print(render_answer(answer) + "\n", file=out)
    return status


def cmd_chat(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    if (refused := _check_llm(args.settings)) is not None:
        return refused
    interactive = sys.stdin.isatty()
    # A line that is not UTF-8 is asked with U+FFFD in place of its bad bytes, not a crash.
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    kb.ensure_index()
    if interactive:
        titles = ", ".join(doc.title for doc in kb.manifest().documents[:3])
        print(f"Ask about: {titles} ({kb.mode} answers).", file=out)
        print("/reset forgets the conversation; an empty line or Ctrl-D quits.", file=out)
    history: deque[Turn] = deque(maxlen=args.settings.history_turns)
    while True:
        if interactive:
            print("? ", end="", file=out, flush=True)
        line = sys.stdin.readline()
        if not line or (interactive and not line.strip()):
            return EXIT_OK
        if not line.strip():
            continue
        if line.strip() == "/reset":
            history.clear()
            print("Conversation forgotten.\n", file=out, flush=True)
            continue
        try:
            answer = kb.ask(line, history=list(history))
        except QuestionError as error:
            print(f"{error}\n", file=out, flush=True)
            continue
        history.append(Turn(answer.question, answer.text))
        print(render_answer(answer) + "\n", file=out, flush=True)


def cmd_sources(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    kb.ensure_index()
    manifest = kb.manifest()
    if args.json:
        print(json.dumps(json.loads(manifest.to_json()), ensure_ascii=False), file=out)
        return EXIT_OK
    print(
        f"Index v{manifest.version}, built {manifest.created_at} with {manifest.embedder}:",
        file=out,
    )
    for doc in manifest.documents:
        print(
            f"\n{doc.title}\n  file: {doc.doc_id}  date: {doc.date or 'not stated'}  "
            f"chunks: {doc.chunks}",
            file=out,
        )
        for section in doc.sections:
            print(f"  \u00a7 {section}", file=out)
    return EXIT_OK


def cmd_eval(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    questions = load_questions(args.questions_file, args.half)
    kb.ensure_index()
    k = args.k or args.settings.top_k
    report = evaluate(kb, questions, k, args.settings.sources_dir)
    if args.json:
        print(
            json.dumps({**report.summary(), "details": report.details}, ensure_ascii=False),
            file=out,
        )
        return EXIT_OK
    for key, value in report.summary().items():
        if isinstance(value, dict):  # answers by mode, fallback reasons: "llm 20, extractive 2"
            value = ", ".join(f"{name} {count}" for name, count in sorted(value.items()))
            value = value or "none"
        print(f"{key:>18}: {value}", file=out)
    misses = [d for d in report.details if not d["correct"]]
    if misses:
        print(f"\n{len(misses)} wrong:", file=out)
        for detail in misses:
            print(f"  - {detail['question']}\n    -> {detail['answer'][:160]}", file=out)
    return EXIT_OK


def cmd_bot(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    settings: Settings = args.settings
    if settings.telegram_bot_token is None:
        print(
            "briefbot: TELEGRAM_BOT_TOKEN is not set; get a token from @BotFather",
            file=sys.stderr,
        )
        return EXIT_USAGE
    configure_logging(settings.log_level, settings.secrets())
    if (refused := _check_llm(settings)) is not None:
        return refused
    # Opt in to PTB's coming timedelta retry_after now, instead of a deprecation warning.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    try:
        run_bot(settings, Services.create(settings, kb))  # closes them when it stops
    except TelegramError as error:  # e.g. a rejected token: PTB puts the token in the text
        print(f"briefbot: Telegram: {redact(str(error), settings.secrets())}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_run(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    if args.settings.telegram_bot_token is not None:
        return cmd_bot(kb, args, out)
    return cmd_chat(kb, args, out)


def cmd_feedback(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    answers = AnswerLog(args.settings.data_dir / "answers.sqlite")
    try:
        votes = answers.export()
    finally:
        answers.close()
    if args.json:
        for vote in votes:
            print(json.dumps(vote, ensure_ascii=False), file=out)
        return EXIT_OK
    print(f"{len(votes)} votes", file=out)
    for vote in votes:
        mark = "+" if vote["vote"] == "up" else "-"
        print(f"  {mark} {vote['voted_at']}  {vote['question'][:80]}", file=out)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot",
        description="Answer questions about your source documents, citing the passages used.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    command(
        "run", cmd_run, "the main job: the Telegram bot when a token is set, else the console chat"
    )
    command("bot", cmd_bot, "the Telegram bot (long polling, or a webhook if configured)")
    feedback = command(
        "feedback", cmd_feedback, "export the \U0001f44d/\U0001f44e votes on answers"
    )
    feedback.add_argument("--json", action="store_true", help="one vote per line, with its answer")
    command("ingest", cmd_ingest, "(re)index the sources dir; only what changed is embedded")
    reload = command("reload", cmd_ingest, "the same as ingest: what the bot's /reload runs")
    reload.add_argument(
        "--watch", action="store_true", help="keep running; reload when the sources dir changes"
    )
    reload.add_argument(
        "--interval", type=float, default=2.0, metavar="SECONDS", help="how often to look"
    )
    command("rollback", cmd_rollback, "serve the previous index version again")
    briefing = command("brief", cmd_brief, "a structured, cited briefing of the documents")
    briefing.add_argument("--topic", help="only what the documents say about this")
    briefing.add_argument("--json", action="store_true", help="its points with their citations")
    ask = command("ask", cmd_ask, "answer questions, with numbered sources")
    ask.add_argument("questions", nargs="+", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer, per line")
    ask.add_argument(
        "-k",
        type=int,
        default=None,
        choices=range(1, 51),
        metavar="N",
        help="passages to retrieve (1-50; default BRIEFBOT_TOP_K)",
    )
    command("chat", cmd_chat, "console chat: one question per line until EOF")
    sources = command("sources", cmd_sources, "list the indexed documents and their sections")
    sources.add_argument("--json", action="store_true", help="print the index manifest as JSON")
    evaluation = command("eval", cmd_eval, "measure retrieval and answers on a question file")
    evaluation.add_argument("questions_file", type=Path, metavar="QUESTIONS.jsonl")
    evaluation.add_argument("--json", action="store_true", help="metrics and per-question details")
    evaluation.add_argument("-k", type=int, default=None, choices=range(1, 51), metavar="N")
    evaluation.add_argument(
        "--half",
        choices=HALVES,
        default=None,
        help="only the tuning or the held-out half of the questions (fixed by a hash of each)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings: Settings = load_settings()
    except SettingsError as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging("WARNING", settings.secrets())  # the bot raises it to its own level
    args.settings = settings
    try:
        kb = open_knowledge_base(settings)
    except OSError as error:
        print(
            f"briefbot: BRIEFBOT_DATA_DIR {settings.data_dir} is not usable: {error}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        return int(args.handler(kb, args, sys.stdout))
    except BrokenPipeError:  # `briefbot ask ... | head`: the reader left, nothing to report
        return EXIT_OK
    except (BriefbotError, OSError) as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        kb.close()
