"""A fake OpenAI-compatible HTTP server for end-to-end tests of code using the ``openai`` client.

Start it with ``async with FakeOpenAI(api_key="sk-fake-test-key") as fake:`` (or, from synchronous
code and CLI subprocess tests, ``with FakeOpenAI().run_in_thread() as fake:``) and point the
client at it with ``base_url=fake.base_url``. The fake

* serves ``POST /v1/chat/completions`` (plain and ``stream=True`` SSE, with
  ``stream_options.include_usage``), ``POST /v1/embeddings`` (``float`` and ``base64``) and
  ``GET /v1/models``; anything else is a 404 with OpenAI's ``Invalid URL`` error;
* answers 401 with OpenAI's error body unless ``Authorization: Bearer <api_key>`` is sent;
* records every request in ``fake.calls`` (the Authorization value is replaced by
  ``"<redacted>"``) and lets a test ``await fake.wait_for(path, predicate)`` like the fake Bot API;
* answers chat completions from a script (``fake.script("first", Reply.rate_limited(), ...)``),
  falling back to ``fake.responder(body)`` when the script is empty;
* embeds deterministically: a hashed bag of words, L2-normalised, so texts sharing words get
  similar vectors (and exactly equal texts equal vectors).

Like a real server it honours ``max_tokens``: a reply longer than that many tokens (words, for
the fake) is cut there with ``finish_reason: "length"``, and ``Reply.repeating`` writes one
sentence over and over until the limit, as a small model does (with no ``max_tokens`` it stops at
``RUNAWAY_TOKENS``, the context of a small local model). ``Reply(echo_prompt=True)`` first copies
the request's last user message, as small models do. ``FakeOpenAI(lists_models=False)`` has no
``GET /v1/models`` (404, as some OpenAI-compatible servers), and ``strict_models=True`` answers a
chat request for a model it does not serve with OpenAI's 404 ``model_not_found`` (Ollama,
vLLM), instead of ignoring the name (llama.cpp).

Stalls (``Reply.stall``, ``Reply.hang``, ``Reply(delay=...)``, ``stream_stall_after``) end as
soon as the server stops, so a test whose client gave up never waits for them (testing notes
P3); a client that goes away leaves ``abandoned`` (and, before the answer began, status 499) on
its call (``fake.wait_for_abandoned``, ``fake.wait_for_status``). The access
log is off and the API key is never written anywhere. Anything the fake made up itself says FAKE.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import math
import re
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CHAT_MODEL",
    "DEFAULT_EMBEDDING_MODEL",
    "Call",
    "FakeOpenAI",
    "Reply",
    "embed_text",
    "embed_tokens",
]

JSON = dict[str, Any]
Responder = Callable[[JSON], "str | Reply"]
"""Answers a chat completion request body when the script is empty: the content, or a Reply."""

DEFAULT_API_KEY = "sk-fake-test-key"
DEFAULT_CHAT_MODEL = "gpt-4o-mini"
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
DEFAULT_DIMENSIONS = 64
RUNAWAY_TOKENS = 3000  # what a reply runs to without max_tokens (a small local model's context)
HANG_SECONDS = 3600.0  # a hung server: until the fake stops
REDACTED = "<redacted>"

CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
MODELS_PATH = "/v1/models"

_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("server_error", "timeout"),
    409: ("invalid_request_error", "conflict"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", "overloaded"),
}


def default_responder(body: JSON) -> str:
    """The answer when nothing is scripted: always ``"OK"``."""
    return "OK"


# --------------------------------------------------------------------------------------------
# Replies


@dataclass(frozen=True)
class Reply:
    """How the fake answers one chat completion (or, via ``script_embeddings``, one embeddings
    request, where only the status, delay, header and garbage fields matter).

    ``status`` other than 200 gives an OpenAI error body ``{"error": {"message", "type", "param",
    "code"}}`` with ``error_message`` (or a default for the status), for streaming requests too,
    as OpenAI does. ``delay`` stalls before answering; with ``stream_stall_after=n`` a streamed
    answer instead sends the role chunk and ``n`` content chunks first and stalls after them (a
    plain request ignores ``stream_stall_after`` and stalls before answering). ``garbage``
    answers ``status`` (200 unless set, e.g. 502 for a gateway page) with an HTML body sent as
    ``garbage_content_type``. openai 3.x raises no APIError for a garbage 200: as text/html it
    *returns the body as a str* instead of a ChatCompletion; as application/json it raises a
    bare ``json.JSONDecodeError``; a streamed request yields no chunks at all.
    """

    content: str | None = ""
    status: int = 200
    delay: float = 0.0
    retry_after_ms: int | None = None
    error_message: str | None = None
    error_code: str | None = None
    finish_reason: str = "stop"
    refusal: str | None = None
    garbage: bool = False
    garbage_content_type: str = "text/html"
    stream_stall_after: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    repeat: bool = False  # write ``content`` again and again until the token limit
    echo_prompt: bool = False  # write the request's last user message before ``content``

    @classmethod
    def rate_limited(cls, retry_after_ms: int = 10, message: str | None = None) -> Reply:
        """429 with a ``retry-after-ms`` header, which openai honours instead of its back-off
        (P13), so a retried call costs milliseconds."""
        return cls(
            content=None,
            status=429,
            retry_after_ms=retry_after_ms,
            error_message=message
            or "Rate limit reached for FAKE model on requests per min (RPM): Limit 3, Used 3.",
        )

    @classmethod
    def server_error(cls, status: int = 500, message: str | None = None) -> Reply:
        """A 5xx (openai retries these; use ``max_retries=0`` to see ``InternalServerError``)."""
        return cls(content=None, status=status, error_message=message)

    @classmethod
    def error(cls, status: int, message: str | None = None, code: str | None = None) -> Reply:
        """Any error status, e.g. ``Reply.error(400, "bad", code="invalid_value")``."""
        return cls(content=None, status=status, error_message=message, error_code=code)

    @classmethod
    def context_length_exceeded(cls) -> Reply:
        """OpenAI's 400 for a prompt over the model's context window."""
        return cls.error(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 130000 tokens. Please reduce the length of the messages.",
            code="context_length_exceeded",
        )

    @classmethod
    def stall(cls, seconds: float, content: str = "FAKE answer after a stall") -> Reply:
        """Answer ``content`` only after ``seconds`` (ends early if the server stops)."""
        return cls(content=content, delay=seconds)

    @classmethod
    def empty(cls) -> Reply:
        """A successful completion with content ``""``."""
        return cls(content="")

    @classmethod
    def refused(cls, refusal: str = "I'm sorry, I can't help with that.") -> Reply:
        """A refusal: ``message.content`` is null and ``message.refusal`` is set."""
        return cls(content=None, refusal=refusal)

    @classmethod
    def hang(cls, after_chunks: int | None = None) -> Reply:
        """Accept the request and never answer (until the server stops): a hung server. With
        ``after_chunks`` a streamed answer sends that many chunks first."""
        return cls(
            content="FAKE answer that never comes",
            delay=HANG_SECONDS,
            stream_stall_after=after_chunks,
        )

    @classmethod
    def repeating(cls, sentence: str) -> Reply:
        """``sentence`` over and over, space-separated, until ``max_tokens`` (or
        ``RUNAWAY_TOKENS``), ending with ``finish_reason="length"``: a looping model."""
        return cls(content=sentence, repeat=True)

    @classmethod
    def truncated(cls, content: str) -> Reply:
        """``content`` with ``finish_reason="length"``, as when max_tokens was hit."""
        return cls(content=content, finish_reason="length")


def _as_reply(reply: str | Reply) -> Reply:
    if isinstance(reply, Reply):
        return reply
    if isinstance(reply, str):
        return Reply(content=reply)
    raise TypeError(f"a reply must be a str or a Reply, not {type(reply).__name__}")


# --------------------------------------------------------------------------------------------
# Calls


@dataclass
class Call:
    """One request. ``time`` is ``time.monotonic()`` at arrival; ``status`` is None while the
    answer is still pending (e.g. stalled) and 499 if the client went away first."""

    method: str
    path: str
    body: JSON
    headers: dict[str, str]
    time: float
    status: int | None = None
    reply: Reply | None = None
    consumed: bool = field(default=False, repr=False, compare=False)
    abandoned: bool = False  # the client went away before the answer was complete

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def max_tokens(self) -> int | None:
        """The ``max_tokens`` the request sent (None if it sent none)."""
        value = self.body.get("max_tokens")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def messages(self) -> list[JSON]:
        """The chat messages of a chat completion request ([] for other requests)."""
        messages = self.body.get("messages")
        return messages if isinstance(messages, list) else []

    @property
    def last_user_text(self) -> str:
        """The text of the last ``user`` message ("" if none)."""
        for message in reversed(self.messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return _message_text(message)
        return ""


# --------------------------------------------------------------------------------------------
# Embeddings


_WORD_RE = re.compile(r"\w+")


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dimensions, 1.0 if (value >> 63) & 1 else -1.0


def _hashed_vector(features: Sequence[str], dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    for feature in features:
        index, sign = _bucket(feature, dimensions)
        vector[index] += sign
    norm = math.sqrt(sum(value * value for value in vector))
    if norm == 0.0:  # only when features cancel out exactly; any unit vector will do
        index, sign = _bucket("\0".join(features), dimensions)
        vector[index], norm = sign, 1.0
    vector = [value / norm for value in vector]
    # Round to float32 so the "float" and "base64" encodings carry exactly the same numbers.
    return list(struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f", *vector)))


def embed_text(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The fake's embedding of ``text``: a signed hashed bag of lower-cased words, L2-normalised
    and rounded to float32. A text without words embeds as its whole string."""
    words = _WORD_RE.findall(text.lower()) or [f"text:{text}"]
    return _hashed_vector(words, dimensions)


def embed_tokens(tokens: Sequence[int], dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The fake's embedding of a list of token ids (a hashed bag of ids)."""
    return _hashed_vector([f"token:{token}" for token in tokens] or ["tokens:"], dimensions)


def _base64_float32(vector: Sequence[float]) -> str:
    """Little-endian float32, as OpenAI sends and openai-python decodes (P12)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def _is_token_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    )


class _BadRequest(Exception):
    def __init__(
        self,
        message: str,
        param: str | None = None,
        status: int = 400,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status
        self.code = code


def _embedding_inputs(raw: Any) -> list[str | list[int]]:
    """Split ``input`` into items: a string, a list of strings, a token list or token lists."""
    if isinstance(raw, str):
        items: list[Any] = [raw]
    elif _is_token_list(raw):
        items = [raw]
    elif isinstance(raw, list) and raw:
        items = raw
    else:
        raise _BadRequest("'$.input' is invalid. Please check the API reference.", "input")
    for item in items:
        if isinstance(item, str):
            if not item:
                raise _BadRequest("'$.input' is invalid. Please check the API reference.", "input")
        elif not _is_token_list(item):
            raise _BadRequest("'$.input' is invalid. Please check the API reference.", "input")
    return items


# --------------------------------------------------------------------------------------------
# Helpers


def _message_text(message: JSON) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return ""


def _max_tokens(body: JSON) -> int | None:
    """The request's token limit (``max_tokens``, or the newer ``max_completion_tokens``)."""
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise _BadRequest(f"Invalid '{name}': must be at least 1.", name)
            return value
    return None


def _written(reply: Reply, call: Call) -> Reply:
    """What the model writes for this request: the echo, the repetition, and the cut at the
    token limit (words count as tokens), as a real server would."""
    if reply.status != HTTPStatus.OK or reply.garbage or reply.content is None:
        return reply
    limit = _max_tokens(call.body)
    content = reply.content
    if reply.echo_prompt:
        content = f"{call.last_user_text}\n{content}"
    if reply.repeat:
        unit = _pieces(content.rstrip() + " ")
        budget = limit or RUNAWAY_TOKENS
        content = "".join(unit[i % len(unit)] for i in range(budget)) if unit else ""
        return replace(reply, content=content, finish_reason="length", repeat=False)
    pieces = _pieces(content)
    if limit is not None and len(pieces) > limit:
        return replace(reply, content="".join(pieces[:limit]), finish_reason="length")
    return replace(reply, content=content)


def _count_words(text: str | None) -> int:
    return len(text.split()) if text else 0


def _pieces(text: str | None) -> list[str]:
    """``text`` split into word-sized chunks that join back to exactly ``text``."""
    return re.findall(r"\S+\s*|\s+", text) if text else []


def _error_body(
    status: int, message: str | None, code: str | None = None, param: str | None = None
) -> JSON:
    kind, default_code = _ERROR_KINDS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    if message is None:
        try:
            message = f"FAKE {HTTPStatus(status).phrase}"
        except ValueError:
            message = f"FAKE error {status}"
    return {
        "error": {"message": message, "type": kind, "param": param, "code": code or default_code}
    }


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_CALL_KEY = web.RequestKey("fake_openai_call", Call)
_FAKE_KEY = web.AppKey("fake_openai", "FakeOpenAI")


@web.middleware
async def _mark_abandoned(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A handler cancelled because its client went away leaves status 499 on its call. Also
    counts the requests in flight, for ``FakeOpenAI.peak_in_flight``."""
    fake = request.app[_FAKE_KEY]
    fake.in_flight += 1
    fake.peak_in_flight = max(fake.peak_in_flight, fake.in_flight)
    try:
        return await handler(request)
    except asyncio.CancelledError:
        call = request.get(_CALL_KEY)
        if call is not None:
            call.abandoned = True
            if call.status is None:
                call.status = 499
            request.app[_FAKE_KEY].status_changed()
        raise
    finally:
        fake.in_flight -= 1


# --------------------------------------------------------------------------------------------
# The fake


class FakeOpenAI:
    """An aiohttp server on 127.0.0.1 (ephemeral port) speaking enough of the OpenAI API for the
    ``openai`` client and LangChain's ``ChatOpenAI`` / ``OpenAIEmbeddings``."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        models: Sequence[str] = (DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL),
        dimensions: int = DEFAULT_DIMENSIONS,
        responder: Responder = default_responder,
        lists_models: bool = True,
        strict_models: bool = False,
    ) -> None:
        self.api_key = api_key
        self.models = list(models)
        self.lists_models = lists_models
        """False: ``GET /v1/models`` is a 404, as on servers without that endpoint."""
        self.strict_models = strict_models
        """True: a chat request for a model not in ``models`` is a 404 ``model_not_found``."""
        self.dimensions = dimensions
        self.responder: Responder = responder
        """Answers chat completions once the script is empty; takes the request body."""

        self.calls: list[Call] = []
        self.internal_errors: list[BaseException] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        """The most requests being answered at the same time so far."""

        self._script: deque[Reply] = deque()
        self._notifications: set[asyncio.Task[None]] = set()
        self._embedding_script: deque[Reply] = deque()
        self._ids = itertools.count(1)
        self._calls_changed: asyncio.Condition | None = None
        self._closing: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeOpenAI is already running")
        self._loop = asyncio.get_running_loop()
        self._calls_changed = asyncio.Condition()
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[_mark_abandoned])
        app[_FAKE_KEY] = self
        app.router.add_route("POST", CHAT_PATH, self._handle_chat)
        app.router.add_route("POST", EMBEDDINGS_PATH, self._handle_embeddings)
        app.router.add_route("GET", MODELS_PATH, self._handle_models)
        app.router.add_route("GET", MODELS_PATH + "/{model}", self._handle_model)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # No access log (it would be noise, and no header may ever be logged); a handler whose
        # client went away is cancelled; in-flight handlers get 0.5 s on cleanup (P3).
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()  # ends every stall at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._loop = None

    @contextlib.contextmanager
    def run_in_thread(self) -> Iterator[Self]:
        """Serve from a background thread with its own event loop, for synchronous tests (a
        sync client called on the test's own loop would block the server) and subprocesses.

        Use :meth:`wait_for_sync` to wait for calls from the test thread.
        """
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # surfaced in the test thread below
                failure.append(exc)
                loop.close()
                started.set()
                return
            started.set()
            try:
                loop.run_forever()
                loop.run_until_complete(self.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

        thread = threading.Thread(target=serve, name="FakeOpenAI", daemon=True)
        thread.start()
        try:
            if not started.wait(10):
                raise RuntimeError("FakeOpenAI did not start within 10 s")
            if failure:
                raise failure[0]
            yield self
        finally:
            if not loop.is_closed():
                loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            self._loop = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeOpenAI is not running; use `async with FakeOpenAI(...)`")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``OpenAI(base_url=...)`` and ``ChatOpenAI(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ---------------------------------------------------------------- scripting

    def script(self, *replies: str | Reply) -> None:
        """Queue answers for the next chat completions, in order (appends to earlier ones)."""
        self._script.extend(_as_reply(reply) for reply in replies)

    def script_embeddings(self, *replies: Reply) -> None:
        """Queue faults (status, delay, garbage) for the next embeddings requests. A Reply with
        status 200 and no garbage answers normally."""
        self._embedding_script.extend(replies)

    @property
    def pending_replies(self) -> int:
        """How many scripted chat replies have not been used yet."""
        return len(self._script)

    # ---------------------------------------------------------------- inspection

    def requests_of(self, path: str) -> list[Call]:
        """Every recorded call of ``path`` ("/v1/chat/completions" or "chat/completions"),
        consumed or not, in arrival order."""
        wanted = self._normalise(path)
        return [call for call in self.calls if call.path == wanted]

    async def wait_for(
        self,
        path: str,
        predicate: Callable[[JSON], bool] | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109 - part of the assertion, not a cancel scope
    ) -> Call:
        """Return (and consume) the first not yet consumed call of ``path`` whose JSON body
        satisfies ``predicate``, waiting up to ``timeout`` seconds for it to arrive.

        A call counts on arrival, before it is answered, and failed calls (401, scripted 429)
        count too; check ``call.status``. A predicate raising KeyError/TypeError/IndexError/
        AttributeError counts as "no match". On timeout it raises AssertionError listing every
        call seen.
        """
        condition = self._condition()
        wanted = self._normalise(path)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with condition:
            while True:
                for call in self.calls:
                    if call.consumed or call.path != wanted:
                        continue
                    if predicate is None or self._matches(predicate, call.body):
                        call.consumed = True
                        return call
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(wanted, predicate, timeout))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(condition.wait(), remaining)

    async def wait_for_status(
        self,
        call: Call,
        status: int,
        timeout: float = 30.0,  # noqa: ASYNC109 - part of the assertion, not a cancel scope
    ) -> None:
        """Wait until ``call`` has ``status`` (499: its client went away before the answer
        began), or AssertionError."""
        await self._wait_until(call, lambda: call.status == status, f"status {status}", timeout)

    async def wait_for_abandoned(
        self,
        call: Call,
        timeout: float = 30.0,  # noqa: ASYNC109 - part of the assertion, not a cancel scope
    ) -> None:
        """Wait until the client of ``call`` has gone away before its answer was complete
        (a cancelled request, streamed or not), or AssertionError."""
        await self._wait_until(call, lambda: call.abandoned, "abandoned", timeout)

    async def _wait_until(
        self,
        call: Call,
        done: Callable[[], bool],
        what: str,
        timeout: float,  # noqa: ASYNC109 - part of the assertion, not a cancel scope
    ) -> None:
        condition = self._condition()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with condition:
            while not done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(
                        f"FakeOpenAI: {call.method} {call.path} is not {what} after {timeout}s "
                        f"(status {call.status}, abandoned {call.abandoned})"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(condition.wait(), remaining)

    def wait_for_status_sync(self, call: Call, status: int, timeout: float = 30.0) -> None:
        """:meth:`wait_for_status` from another thread, when serving via :meth:`run_in_thread`."""
        self._run_sync(self.wait_for_status(call, status, timeout), timeout)

    def wait_for_abandoned_sync(self, call: Call, timeout: float = 30.0) -> None:
        """:meth:`wait_for_abandoned` from another thread (:meth:`run_in_thread`)."""
        self._run_sync(self.wait_for_abandoned(call, timeout), timeout)

    def _run_sync(self, coroutine: Coroutine[Any, Any, None], timeout: float) -> None:
        if self._loop is None:
            coroutine.close()
            raise RuntimeError("FakeOpenAI is not running")
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout + 5)

    def wait_for_sync(
        self,
        path: str,
        predicate: Callable[[JSON], bool] | None = None,
        timeout: float = 30.0,
    ) -> Call:
        """:meth:`wait_for` from another thread, when serving via :meth:`run_in_thread`."""
        if self._loop is None:
            raise RuntimeError("FakeOpenAI is not running")
        future = asyncio.run_coroutine_threadsafe(
            self.wait_for(path, predicate, timeout), self._loop
        )
        return future.result(timeout + 5)

    # ---------------------------------------------------------------- handlers

    async def _handle_chat(self, request: web.Request) -> web.StreamResponse:
        call, denied = await self._arrive(request)
        if denied is not None:
            return denied
        try:
            model = self._require_model(call.body)
            messages = call.body.get("messages")
            if not isinstance(messages, list) or not messages:
                raise _BadRequest(
                    "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                    "but got an empty array instead.",
                    "messages",
                )
            if self.strict_models and model not in self.models:
                raise _BadRequest(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "model",
                    status=404,
                    code="model_not_found",
                )
            if self._script:
                reply = self._script.popleft()
            else:
                reply = _as_reply(self.responder(call.body))
            reply = _written(reply, call)
        except _BadRequest as exc:
            error = self._error(exc.status, exc.message, code=exc.code, param=exc.param)
            return self._finish(call, error)
        except Exception as exc:  # a bug in the fake or the test's responder: keep it visible
            self.internal_errors.append(exc)
            return self._finish(call, self._error(500, f"FAKE internal error: {exc!r}"))
        call.reply = reply
        stream = bool(call.body.get("stream"))
        if stream and reply.status == HTTPStatus.OK and not reply.garbage:
            return await self._stream_chat(request, call, reply, model)
        if await self._pause(reply.delay):
            return self._finish(call, self._error(503, "FAKE server is shutting down"))
        if reply.status != HTTPStatus.OK or reply.garbage:
            return self._finish(call, self._fault(reply))
        return self._finish(call, self._json(self._completion(call.body, reply, model)))

    async def _stream_chat(
        self, request: web.Request, call: Call, reply: Reply, model: str
    ) -> web.StreamResponse:
        stall_after = reply.stream_stall_after
        if stall_after is None and await self._pause(reply.delay):
            return self._finish(call, self._error(503, "FAKE server is shutting down"))
        include_usage = bool((call.body.get("stream_options") or {}).get("include_usage"))
        completion_id = self._completion_id()
        created = int(time.time())

        def chunk(delta: JSON, finish_reason: str | None = None) -> JSON:
            event: JSON = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "delta": delta,
                        "logprobs": None,
                        "finish_reason": finish_reason,
                    }
                ],
            }
            if include_usage:
                event["usage"] = None
            return event

        pieces = [{"content": piece} for piece in _pieces(reply.content)]
        pieces += [{"refusal": piece} for piece in _pieces(reply.refusal)]
        role: JSON = {"role": "assistant", "content": "", "refusal": None}
        if reply.content is None:
            role["content"] = None
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "x-request-id": self._request_id(),
                **reply.headers,
            },
        )
        await response.prepare(request)
        call.status = 200
        self.status_changed()
        await self._send_event(response, chunk(role))
        for index, delta in enumerate(pieces):
            if index == stall_after and await self._pause(reply.delay):
                return response  # the server is stopping: end the stream without [DONE]
            await self._send_event(response, chunk(delta))
        if (
            stall_after is not None
            and stall_after >= len(pieces)
            and await self._pause(reply.delay)
        ):
            return response
        await self._send_event(response, chunk({}, reply.finish_reason))
        if include_usage:
            usage_event = chunk({})
            usage_event["choices"] = []
            usage_event["usage"] = self._usage(call.body, reply)
            await self._send_event(response, usage_event)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _handle_embeddings(self, request: web.Request) -> web.StreamResponse:
        call, denied = await self._arrive(request)
        if denied is not None:
            return denied
        reply = self._embedding_script.popleft() if self._embedding_script else None
        call.reply = reply
        if reply is not None:
            if await self._pause(reply.delay):
                return self._finish(call, self._error(503, "FAKE server is shutting down"))
            if reply.status != HTTPStatus.OK or reply.garbage:
                return self._finish(call, self._fault(reply))
        try:
            model = self._require_model(call.body)
            items = _embedding_inputs(call.body.get("input"))
            encoding = call.body.get("encoding_format", "float")
            if encoding not in ("float", "base64"):
                raise _BadRequest(
                    f"Invalid value for 'encoding_format': {encoding!r}. "
                    "Expected 'float' or 'base64'.",
                    "encoding_format",
                )
            dimensions = call.body.get("dimensions", self.dimensions)
            if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
                raise _BadRequest("Invalid 'dimensions': must be at least 1.", "dimensions")
        except _BadRequest as exc:
            return self._finish(call, self._error(exc.status, exc.message, param=exc.param))
        data: list[JSON] = []
        tokens = 0
        for index, item in enumerate(items):
            if isinstance(item, str):
                vector = embed_text(item, dimensions)
                tokens += max(1, _count_words(item))
            else:
                vector = embed_tokens(item, dimensions)
                tokens += len(item)
            embedding: Any = _base64_float32(vector) if encoding == "base64" else vector
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        body = {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return self._finish(call, self._json(body))

    async def _handle_models(self, request: web.Request) -> web.StreamResponse:
        call, denied = await self._arrive(request)
        if denied is not None:
            return denied
        if not self.lists_models:
            message = f"Invalid URL ({request.method} {request.path})"
            return self._finish(call, self._error(404, message, code="unknown_url"))
        body = {"object": "list", "data": [self._model(name) for name in self.models]}
        return self._finish(call, self._json(body))

    async def _handle_model(self, request: web.Request) -> web.StreamResponse:
        call, denied = await self._arrive(request)
        if denied is not None:
            return denied
        name = request.match_info["model"]
        if name not in self.models:
            message = f"The model '{name}' does not exist or you do not have access to it."
            return self._finish(call, self._error(404, message, code="model_not_found"))
        return self._finish(call, self._json(self._model(name)))

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        call, denied = await self._arrive(request)
        if denied is not None:
            return denied
        message = f"Invalid URL ({request.method} {request.path})"
        return self._finish(call, self._error(404, message, code="unknown_url"))

    # ---------------------------------------------------------------- internals

    async def _arrive(self, request: web.Request) -> tuple[Call, web.Response | None]:
        """Record the request; return it and, if it must be refused, the refusal."""
        headers = {
            name: (REDACTED if name.lower() == "authorization" else value)
            for name, value in request.headers.items()
        }
        body: JSON = {}
        problem: str | None = None
        if request.can_read_body:
            raw = await request.read()
            try:
                decoded = json.loads(raw) if raw else {}
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                body = decoded
            else:
                body = {"_raw": raw.decode("utf-8", "replace")}
                problem = (
                    "We could not parse the JSON body of your request. (HINT: This likely "
                    "means you aren't using your HTTP library correctly. The OpenAI API "
                    "expects a JSON payload, but what was sent was not valid JSON.)"
                )
        call = Call(request.method, request.path, body, headers, time.monotonic())
        request[_CALL_KEY] = call
        await self._record(call)
        authorization = request.headers.get("Authorization", "")
        if not authorization:
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return call, self._finish(call, self._error(401, message, code=None))
        if authorization != f"Bearer {self.api_key}":
            # OpenAI echoes a masked key here; the fake echoes none of it.
            message = "Incorrect API key provided. FAKE does not echo keys."
            return call, self._finish(call, self._error(401, message))
        if problem is not None:
            return call, self._finish(call, self._error(400, problem))
        return call, None

    async def _record(self, call: Call) -> None:
        condition = self._condition()
        async with condition:
            self.calls.append(call)
            condition.notify_all()

    def _condition(self) -> asyncio.Condition:
        if self._calls_changed is None:
            raise RuntimeError("FakeOpenAI is not running; use `async with FakeOpenAI(...)`")
        return self._calls_changed

    async def _pause(self, seconds: float) -> bool:
        """Sleep ``seconds``; True if the server started stopping first (the caller gives up)."""
        closing = self._closing
        assert closing is not None
        if seconds <= 0:
            return closing.is_set()
        try:
            await asyncio.wait_for(closing.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _finish(self, call: Call, response: web.Response) -> web.Response:
        call.status = response.status
        self.status_changed()
        return response

    def status_changed(self) -> None:
        """Wake `wait_for_status` (called on the server's loop whenever a call's status is set)."""
        condition = self._calls_changed
        if condition is None:
            return

        async def notify() -> None:
            async with condition:
                condition.notify_all()

        task = asyncio.get_running_loop().create_task(notify())
        self._notifications.add(task)
        task.add_done_callback(self._notifications.discard)

    def _json(
        self, body: JSON, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        return web.json_response(
            body, status=status, headers={"x-request-id": self._request_id(), **(headers or {})}
        )

    def _error(
        self, status: int, message: str | None, code: str | None = None, param: str | None = None
    ) -> web.Response:
        return self._json(_error_body(status, message, code, param), status)

    def _fault(self, reply: Reply) -> web.Response:
        headers = dict(reply.headers)
        if reply.retry_after_ms is not None:
            headers["retry-after-ms"] = str(reply.retry_after_ms)
            headers.setdefault("retry-after", str(max(1, math.ceil(reply.retry_after_ms / 1000))))
        if reply.garbage:
            return web.Response(
                status=reply.status,
                body=b"<html><body><h1>FAKE gateway says hello</h1></body></html>",
                headers={"Content-Type": reply.garbage_content_type, **headers},
            )
        body = _error_body(reply.status, reply.error_message, reply.error_code)
        return self._json(body, reply.status, headers)

    def _completion(self, body: JSON, reply: Reply, model: str) -> JSON:
        return {
            "id": self._completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": reply.content,
                        "refusal": reply.refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": self._usage(body, reply),
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    @staticmethod
    def _usage(body: JSON, reply: Reply) -> JSON:
        """Token counts, roughly: whitespace-separated words plus 3 per message."""
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        prompt = sum(_count_words(_message_text(m)) + 3 for m in messages)
        completion = _count_words(reply.content) + _count_words(reply.refusal)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    @staticmethod
    def _model(name: str) -> JSON:
        return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}

    @staticmethod
    def _require_model(body: JSON) -> str:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _BadRequest("you must provide a model parameter", "model")
        return model

    @staticmethod
    async def _send_event(response: web.StreamResponse, event: JSON) -> None:
        await response.write(f"data: {json.dumps(event)}\n\n".encode())

    def _completion_id(self) -> str:
        return f"chatcmpl-fake{next(self._ids):06d}"

    def _request_id(self) -> str:
        return f"req_fake{next(self._ids):06d}"

    @staticmethod
    def _normalise(path: str) -> str:
        path = "/" + path.lstrip("/")
        return path if path.startswith("/v1/") else "/v1" + path

    @staticmethod
    def _matches(predicate: Callable[[JSON], bool], body: JSON) -> bool:
        try:
            return bool(predicate(body))
        except (KeyError, TypeError, IndexError, AttributeError):
            return False

    def _timeout_report(
        self, path: str, predicate: Callable[[JSON], bool] | None, timeout: float
    ) -> str:
        what = f"{path!r}" + (" matching the predicate" if predicate else "")
        lines = [
            f"FakeOpenAI.wait_for: no unconsumed call of {what} within {timeout}s. "
            f"Calls seen ({len(self.calls)}; * = already consumed):"
        ]
        for index, call in enumerate(self.calls):
            mark = "*" if call.consumed else " "
            status = "pending" if call.status is None else str(call.status)
            lines.append(
                f"  {index:>3}{mark} {call.method} {call.path} {_short(call.body)} -> {status}"
            )
        if not self.calls:
            lines.append("  (none)")
        if self.internal_errors:
            lines.append(f"FAKE internal errors: {self.internal_errors!r}")
        return "\n".join(lines)
