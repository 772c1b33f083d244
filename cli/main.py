"""`briefbot`: the console front end. It parses arguments, calls the KnowledgeBase, prints.

Exit codes: 0 ok, 1 the work failed (a bad source, an unanswerable input), 2 bad usage or
settings.

Only light modules are imported here: Telegram, Chroma, LangChain and the embedders take
seconds to import, so each command imports what it uses, and `--help`, `config`, `feedback`
and `sources` on an existing index never load them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from config import Settings, SettingsError, effective_settings, load_settings, unknown_variables
from config.logs import configure_logging, redact
from retrieval.errors import BriefbotError, QuestionError
from retrieval.evaluation import HALVES, evaluate, load_questions
from retrieval.models import NOT_COVERED, Manifest, Turn
from retrieval.sources.documents import SUPPORTED_SUFFIXES, discover_sources, sources_signature

if TYPE_CHECKING:
    from retrieval.models import Answer, IngestReport
    from retrieval.service import KnowledgeBase

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# LangSmith reads each under both prefixes; any one "true" sends questions, passages and
# answers to LangSmith.
TRACING_VARIABLES = (
    "LANGSMITH_TRACING",
    "LANGSMITH_TRACING_V2",
    "LANGCHAIN_TRACING",
    "LANGCHAIN_TRACING_V2",
)


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


def _read_as(read_as: tuple[tuple[str, str], ...]) -> list[str]:
    return [
        f"(searched for \u201c{read}\u201d: you wrote \u201c{typed}\u201d)"
        for typed, read in read_as
    ]


def render_answer(answer: Answer) -> str:
    """The answer and its numbered sources, readable in a terminal."""
    lines = [*_read_as(answer.read_as), answer.text]
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


# What each ingest stage counts (retrieval.models.IngestProgress).
_STAGE_UNITS = {"reading": "file", "embedding": "text", "writing": "version"}

# What an operator watches for (ingest progress, the start line): shown although the CLI
# logs at WARNING.
operator_log = logging.getLogger("briefbot.operator")
operator_log.setLevel(logging.INFO)


class IngestProgressView:
    """An ingest's progress on `stream` (stderr, never stdout, which carries the report):
    on a terminal a tqdm bar per stage (done of total, rate, ETA), otherwise one INFO log
    line when a stage starts and one when it ends, with its count and seconds. Never raises
    for a stage it does not know; `close` ends a stage left open by a failed ingest."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = _isatty(stream)
        self._stage: str | None = None
        self._open = False
        self._started = 0.0
        self._done = 0
        self._bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self._end(finished=True)
            self._begin(stage, total)
        elif not self._open:
            return  # this stage already ended
        self._done = done
        if self._bar is not None:
            if self._bar.total != total:
                self._bar.total = total
            self._bar.update(done - self._bar.n)
        if done >= total:
            self._end(finished=True)

    def close(self) -> None:
        self._end(finished=False)

    def _begin(self, stage: str, total: int) -> None:
        self._stage, self._open, self._done = stage, True, 0
        self._started = time.perf_counter()
        unit = _STAGE_UNITS.get(stage, "item")
        if self._tty:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=stage, unit=unit, file=self._stream, **_screen(self._stream)
            )
        else:
            operator_log.info("%s: %d %s(s)", stage, total, unit)

    def _end(self, finished: bool) -> None:
        if not self._open:
            return
        self._open = False
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif finished:
            operator_log.info(
                "%s done: %d %s(s) in %.2f s",
                self._stage,
                self._done,
                _STAGE_UNITS.get(self._stage or "", "item"),
                time.perf_counter() - self._started,
            )


def _screen(stream: TextIO) -> dict[str, int]:
    """The terminal's size for tqdm; 80x24 where it tells none: a pty nobody sized says 0x0,
    and tqdm then hides its bar (below the last of 0 rows)."""
    try:
        size = os.get_terminal_size(stream.fileno())
        columns, lines = size.columns, size.lines
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        columns, lines = 0, 0
    return {"ncols": columns or 80, "nrows": lines or 24}


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def _ingest(kb: KnowledgeBase) -> IngestReport:
    """One ingest with its progress shown on stderr."""
    progress = IngestProgressView(sys.stderr)
    try:
        return kb.ingest(progress=progress)
    finally:
        progress.close()


def cmd_ingest(kb: KnowledgeBase, args: argparse.Namespace, out: TextIO) -> int:
    sources_dir = args.settings.sources_dir
    watching = getattr(args, "watch", False)
    # Taken before indexing: a file changed while the first ingest runs is still noticed.
    indexed = sources_signature(sources_dir) if watching else ()
    _print_report(_ingest(kb), out)
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
                _print_report(_ingest(kb), out)
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
    print(
        f"Briefing: {subject} (index v{briefing.version})",
        *_read_as(briefing.read_as),
        file=out,
        sep="\n",
    )
    print(file=out)
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
    if not settings.llm_enabled:
        return None  # offline: nothing to check, and no openai client to import
    from retrieval.llm.check import ModelCheckError, check_model

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
    manifest = kb.manifest()
    # One line an operator can check the start against (never a secret), as the bot logs.
    operator_log.info(
        "serving the console: %s answers from index v%d (documents %d, passages %d, %s)",
        kb.mode,
        manifest.version,
        len(manifest.documents),
        manifest.chunk_count,
        manifest.embedder,
    )
    if interactive:
        titles = ", ".join(doc.title for doc in manifest.documents[:3])
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


def live_manifest(settings: Settings) -> Manifest | None:
    """The manifest of the version being served, read straight from the index files without
    Chroma or the embedder; None when there is none, or anything about it looks unusual
    (then the index store, which heals damage, is asked instead).

    It follows `IndexStore`'s layout: `index/current.json` names the live version,
    `index/v<N>.json` is its manifest, written before the pointer names it.
    """
    index_dir = settings.data_dir / "index"
    try:
        version = int(
            json.loads((index_dir / "current.json").read_text(encoding="utf-8"))["version"]
        )
        return Manifest.from_json((index_dir / f"v{version}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cmd_sources(args: argparse.Namespace, out: TextIO) -> int:
    """What the live index holds. Only with no index yet is one built first (that takes the
    embedder; listing an existing one takes neither it nor Chroma)."""
    manifest = live_manifest(args.settings)
    if manifest is None:
        with _knowledge_base(args.settings) as kb:
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
    from telegram.error import TelegramError

    from bot.app import run_bot
    from bot.context import Services

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


def cmd_feedback(args: argparse.Namespace, out: TextIO) -> int:
    # The state database alone, not the composition root: that would load Chroma and the
    # embedders for a command that needs neither.
    from retrieval.state.answer_log import AnswerLog  # noqa: PLC0415
    from retrieval.state.database import Database  # noqa: PLC0415

    database = Database(args.settings.state_database_url, args.settings.data_dir)
    try:
        votes = AnswerLog(database).export()
    finally:
        database.close()
    if args.json:
        for vote in votes:
            print(json.dumps(vote, ensure_ascii=False), file=out)
        return EXIT_OK
    print(f"{len(votes)} votes", file=out)
    for vote in votes:
        mark = "+" if vote["vote"] == "up" else "-"
        print(f"  {mark} {vote['voted_at']}  {vote['question'][:80]}", file=out)
    return EXIT_OK


def keep_tracing_off(settings: Settings) -> None:
    """Switch LangSmith tracing off for this process unless BRIEFBOT_LANGSMITH_TRACING allows
    it: LANGSMITH_TRACING=true alone (set for another project, say) would send questions and
    document text off the machine. Called before LangChain is imported, since LangSmith keeps
    the first value it reads."""
    if settings.langsmith_tracing:
        return
    for name in TRACING_VARIABLES:
        os.environ[name] = "false"


def _shown_path(path: Path) -> str:
    return str(path) if path.is_absolute() else f"{path} ({path.absolute()})"


def sources_problem(settings: Settings) -> str | None:
    """Why the sources dir cannot be answered from (missing, not a folder, no documents)."""
    directory = settings.sources_dir
    if directory.is_dir():
        if discover_sources(directory):
            return None
        state = "has no " + " or ".join(SUPPORTED_SUFFIXES) + " files"
    else:
        state = "is not a folder" if directory.exists() else "does not exist"
    return f"BRIEFBOT_SOURCES_DIR {_shown_path(directory)} {state}"


class UsageError(Exception):
    """Bad settings found after parsing: the command exits EXIT_USAGE with this message."""


def require_sources(settings: Settings) -> None:
    """A command that answers from the documents stops here if the sources dir is unusable.
    With an index built earlier it would otherwise start fine and decline every question
    (no quote can be checked against a file that is not there), with exit 0."""
    problem = sources_problem(settings)
    if problem is None:
        return
    manifest = live_manifest(settings)
    if manifest is None:
        raise UsageError(f"{problem}: there is nothing to answer from")
    raise UsageError(
        f"{problem}, but index v{manifest.version} was built from {len(manifest.documents)} "
        "documents there: every question would be declined. Point BRIEFBOT_SOURCES_DIR at "
        "them"
    )


@contextlib.contextmanager
def _knowledge_base(settings: Settings) -> Iterator[KnowledgeBase]:
    from retrieval.composition import open_knowledge_base

    try:
        kb = open_knowledge_base(settings)
    except OSError as error:
        raise UsageError(f"BRIEFBOT_DATA_DIR {settings.data_dir} is not usable: {error}") from None
    try:
        yield kb
    finally:
        kb.close()


def _data_dir_problem(settings: Settings) -> str | None:
    directory = settings.data_dir
    existing = next(path for path in (directory, *directory.absolute().parents) if path.exists())
    if not existing.is_dir():
        return f"BRIEFBOT_DATA_DIR {_shown_path(directory)}: {existing} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"BRIEFBOT_DATA_DIR {_shown_path(directory)}: {existing} is not writable"
    return None


def settings_problems(settings: Settings) -> list[str]:
    """What `config --check` finds wrong in valid settings: folders that cannot be used, and
    in LLM mode prompt files that do not load."""
    from retrieval.llm.prompts import PromptError, load_prompts

    problems = [
        problem for problem in (sources_problem(settings), _data_dir_problem(settings)) if problem
    ]
    if settings.llm_enabled:
        try:
            load_prompts(settings.prompts_dir)
        except PromptError as error:
            problems.append(f"BRIEFBOT_PROMPTS_DIR: {error}")
    return problems


def _text(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "empty"
    return str(value)


def cmd_config(args: argparse.Namespace, out: TextIO) -> int:
    """The settings in force and where each came from; with --check, every problem."""
    warnings = unknown_variables()
    settings: Settings | None
    try:
        settings = load_settings()
    except SettingsError as error:
        settings, problems = None, list(error.problems)
    else:
        problems = settings_problems(settings) if args.check else []
    if args.check:  # a misspelt variable fails the check; at a normal start it only warns
        problems = warnings + problems
    effective = effective_settings(settings) if settings is not None else []
    if args.json:
        shown = {item.variable: {"value": item.value, "origin": item.origin} for item in effective}
        report = {
            "settings": shown if settings is not None else None,
            "warnings": warnings,
            "problems": problems,
        }
        print(json.dumps(report, ensure_ascii=False), file=out)
        return EXIT_USAGE if problems else EXIT_OK
    width = max((len(item.variable) for item in effective), default=0)
    for item in effective:
        print(f"{item.variable:<{width}}  {_text(item.value)}  ({item.origin})", file=out)
    for warning in warnings if not args.check else ():
        print(f"briefbot: warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(f"briefbot: {problem}", file=sys.stderr)
    if args.check and not problems:
        print("The settings are usable.", file=out)
    return EXIT_USAGE if problems else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefbot",
        description="Answer questions about your source documents, citing the passages used.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str,
        handler: Callable[..., int],
        help_text: str,
        opens_index: bool = True,
        reads_sources: bool = False,
    ) -> argparse.ArgumentParser:
        """`opens_index`: the handler gets the KnowledgeBase first; `reads_sources`: it
        answers from the documents, so an unusable sources dir stops it first."""
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler, opens_index=opens_index, reads_sources=reads_sources)
        return sub

    command(
        "run",
        cmd_run,
        "the main job: the Telegram bot when a token is set, else the console chat",
        reads_sources=True,
    )
    command(
        "bot",
        cmd_bot,
        "the Telegram bot (long polling, or a webhook if configured)",
        reads_sources=True,
    )
    feedback = command(
        "feedback", cmd_feedback, "export the \U0001f44d/\U0001f44e votes on answers", False
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
    briefing = command(
        "brief", cmd_brief, "a structured, cited briefing of the documents", reads_sources=True
    )
    briefing.add_argument("--topic", help="only what the documents say about this")
    briefing.add_argument("--json", action="store_true", help="its points with their citations")
    ask = command("ask", cmd_ask, "answer questions, with numbered sources", reads_sources=True)
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
    command("chat", cmd_chat, "console chat: one question per line until EOF", reads_sources=True)
    sources = command(
        "sources",
        cmd_sources,
        "list the indexed documents and their sections (indexes first if there is no index)",
        opens_index=False,
    )
    sources.add_argument("--json", action="store_true", help="print the index manifest as JSON")
    evaluation = command(
        "eval",
        cmd_eval,
        "measure retrieval and answers on a question file",
        reads_sources=True,
    )
    evaluation.add_argument("questions_file", type=Path, metavar="QUESTIONS.jsonl")
    evaluation.add_argument("--json", action="store_true", help="metrics and per-question details")
    evaluation.add_argument("-k", type=int, default=None, choices=range(1, 51), metavar="N")
    evaluation.add_argument(
        "--half",
        choices=HALVES,
        default=None,
        help="only the tuning or the held-out half of the questions (fixed by a hash of each)",
    )
    config = command(
        "config",
        cmd_config,
        "the settings in force and where each came from (default, .env, environment); "
        "secrets masked",
        opens_index=False,
    )
    config.add_argument("--json", action="store_true", help="as one JSON object")
    config.add_argument(
        "--check", action="store_true", help="check them; exit 2 naming every problem"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.handler is cmd_config:  # it reports bad settings itself, all of them
        return cmd_config(args, sys.stdout)
    try:
        settings: Settings = load_settings()
    except SettingsError as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    for warning in unknown_variables():
        print(f"briefbot: warning: {warning}", file=sys.stderr)
    keep_tracing_off(settings)
    configure_logging("WARNING", settings.secrets())  # the bot raises it to its own level
    args.settings = settings
    try:
        if args.reads_sources:
            require_sources(settings)
        if not args.opens_index:
            return int(args.handler(args, sys.stdout))
        with _knowledge_base(settings) as kb:
            return int(args.handler(kb, args, sys.stdout))
    except UsageError as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `briefbot ask ... | head`: the reader left, nothing to report
        return EXIT_OK
    except (BriefbotError, OSError) as error:
        print(f"briefbot: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
