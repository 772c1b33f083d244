"""The chat model for LLM answers: LangChain's ChatOpenAI over the openai client, pointed at
OpenAI or any OpenAI-compatible server. Failures become LlmFailure with a short reason; the
caller then falls back to the extractive answer.

Every request is bounded twice: `max_tokens` (BRIEFBOT_LLM_MAX_TOKENS) bounds what the model may
write, and a `Deadline` (BRIEFBOT_LLM_DEADLINE) bounds the time of everything one answer asks
of the model. Retries (429, 5xx, connection errors) happen here, within the deadline; a timeout
is never retried, because a server that did not answer in time is usually still busy with the
abandoned request, and a retry would only queue behind it. At most BRIEFBOT_LLM_MAX_CONCURRENT
requests are in flight at once (`InFlightLimit`); waiting for a slot counts against the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from config import Settings
from retrieval.llm.calls import MIN_REQUEST_SECONDS, Completion, Deadline, LlmFailure
from retrieval.llm.followup import conversation_chars, plausible_rewrite
from retrieval.llm.limit import InFlightLimit, LimitTimeout
from retrieval.llm.prompts import PromptSet
from retrieval.models import Passage, Turn

log = logging.getLogger(__name__)

_RETRIED = frozenset({"rate_limited", "server_error", "connection"})
_LONGEST_BACKOFF = 8.0


def _neutralise(text: str) -> str:
    """Text cannot close or open our delimiters, whatever it contains."""
    return text.replace("<<<", "\u2039\u2039\u2039").replace(">>>", "\u203a\u203a\u203a")


def format_passages(passages: Sequence[Passage]) -> str:
    blocks = []
    for number, passage in enumerate(passages, start=1):
        where = " \u2014 ".join(part for part in (passage.title, passage.section) if part)
        dated = f" ({passage.date})" if passage.date else ""
        blocks.append(
            f"[{number}] {_neutralise(where)}{dated}\n<<<PASSAGE {number}\n"
            f"{_neutralise(passage.text)}\nPASSAGE {number}>>>"
        )
    return "\n\n".join(blocks)


def _failure(error: Exception) -> LlmFailure:
    """Map client errors to reasons. Messages may quote the request, never the key."""
    if isinstance(error, LlmFailure):
        return error
    if isinstance(error, LimitTimeout):
        return LlmFailure("timeout", "every request slot stayed busy until the deadline")
    reasons: list[tuple[type[Exception], str]] = [
        (openai.APITimeoutError, "timeout"),
        (openai.RateLimitError, "rate_limited"),
        (openai.AuthenticationError, "auth"),
        (openai.APIConnectionError, "connection"),
        (openai.InternalServerError, "server_error"),
        (openai.APIResponseValidationError, "garbled"),
        (openai.APIStatusError, "api_error"),
    ]
    reason = next((name for kind, name in reasons if isinstance(error, kind)), "garbled")
    return LlmFailure(reason, type(error).__name__)


def _retry_after(error: Exception) -> float | None:
    """The wait the server asked for (retry-after-ms, retry-after), in seconds."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        if (milliseconds := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(milliseconds) / 1000)
        if (seconds := headers.get("retry-after")) is not None:
            return max(0.0, float(seconds))
    return None


def _truncated(message: BaseMessage) -> bool:
    return message.response_metadata.get("finish_reason") == "length"


class ChatModel:
    def __init__(self, settings: Settings, prompts: PromptSet) -> None:
        if settings.openai_api_key is None:
            raise ValueError("LLM mode needs OPENAI_API_KEY")
        self.prompts = prompts
        self._settings = settings
        self._in_flight = InFlightLimit(settings.llm_max_concurrent)
        self._model = ChatOpenAI(
            model=settings.llm_model,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout,
            # Retries are ours (`_retry_delay`): the client's would retry timeouts too.
            max_retries=0,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            # `max_tokens=` would go out as `max_completion_tokens`, which llama.cpp-style
            # servers ignore (and then write until their context is full).
            extra_body={"max_tokens": settings.llm_max_tokens},
        )

    def deadline(self) -> Deadline:
        """A new deadline for one answer (BRIEFBOT_LLM_DEADLINE from now)."""
        return Deadline(self._settings.llm_deadline)

    def _messages(
        self, question: str, passages: Sequence[Passage], remind: bool
    ) -> list[BaseMessage]:
        request = self.prompts.answer.substitute(
            passages=format_passages(passages), question=_neutralise(question)
        )
        return [
            SystemMessage(self.prompts.system),
            HumanMessage(request + (f"\n\n{self.prompts.reminder}" if remind else "")),
        ]

    @staticmethod
    def _content(message: BaseMessage) -> str:
        refusal = (
            message.additional_kwargs.get("refusal") if isinstance(message, AIMessage) else None
        )
        content = message.content if isinstance(message.content, str) else ""
        if refusal and not content.strip():
            raise LlmFailure("refusal")
        if not content.strip():
            raise LlmFailure("empty")
        return content

    def _request_timeout(self, deadline: Deadline) -> float:
        """Seconds the next request may take: BRIEFBOT_LLM_TIMEOUT, or what the deadline leaves."""
        if deadline.expired:
            raise LlmFailure("timeout", f"the {deadline.seconds:g} s deadline passed")
        return min(self._settings.llm_timeout, deadline.remaining())

    def _retry_delay(
        self, failure: LlmFailure, error: Exception, attempt: int, deadline: Deadline
    ) -> float | None:
        """How long to wait before retrying a failed request, or None: do not retry."""
        if failure.reason not in _RETRIED or attempt >= self._settings.llm_max_retries:
            return None
        delay = _retry_after(error)
        if delay is None:
            delay = min(_LONGEST_BACKOFF, 0.5 * 2**attempt)
        if delay + MIN_REQUEST_SECONDS >= deadline.remaining():
            return None  # no time left for another attempt
        log.info("chat model: %s; retrying in %.2f s", failure.reason, delay)
        return delay

    def _invoke(self, messages: list[BaseMessage], deadline: Deadline | None) -> Completion:
        """The model's reply, or LlmFailure with the reason."""
        deadline = deadline or self.deadline()
        attempt = 0
        while True:
            timeout = self._request_timeout(deadline)
            try:
                with self._in_flight.slot(timeout):
                    # What waiting for the slot left of the request's time.
                    timeout = self._request_timeout(deadline)
                    message = self._model.invoke(messages, timeout=timeout)
            # Any failure of the remote model, including a 200 with a body that is no
            # completion (the client then fails with AttributeError or JSONDecodeError), means:
            # fall back.
            except Exception as error:  # noqa: BLE001
                failure = _failure(error)
                delay = self._retry_delay(failure, error, attempt, deadline)
                if delay is None:
                    raise failure from None
                time.sleep(delay)
                attempt += 1
                continue
            return Completion(self._content(message), truncated=_truncated(message))

    def complete(
        self,
        question: str,
        passages: Sequence[Passage],
        remind: bool = False,
        deadline: Deadline | None = None,
    ) -> Completion:
        return self._invoke(self._messages(question, passages, remind), deadline)

    async def stream(
        self, question: str, passages: Sequence[Passage], deadline: Deadline | None = None
    ) -> AsyncIterator[Completion]:
        """The answer so far, growing, as the model writes it; the last one has done=True.

        The request runs in a task of its own, so that at the deadline it is cancelled (and its
        connection closed) whatever the server does, and the caller is never cancelled itself.
        """
        deadline = deadline or self.deadline()
        messages = self._messages(question, passages, False)
        pieces: asyncio.Queue[str | Completion | LlmFailure] = asyncio.Queue()
        producer = asyncio.create_task(self._produce(messages, deadline, pieces))
        text = ""
        try:
            while True:
                try:
                    piece = await asyncio.wait_for(pieces.get(), deadline.remaining())
                except TimeoutError:
                    raise LlmFailure(
                        "timeout", f"the {deadline.seconds:g} s deadline passed"
                    ) from None
                if isinstance(piece, LlmFailure):
                    raise piece
                if isinstance(piece, Completion):
                    if not text.strip():
                        raise LlmFailure("empty")
                    yield Completion(text, truncated=piece.truncated, done=True)
                    return
                text += piece
                yield Completion(text, done=False)
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer

    async def _produce(
        self,
        messages: list[BaseMessage],
        deadline: Deadline,
        pieces: asyncio.Queue[str | Completion | LlmFailure],
    ) -> None:
        """Put the streamed text on `pieces`, then a Completion (its finish) or LlmFailure."""
        attempt = 0
        while True:
            written = False
            truncated = False
            try:
                async with self._in_flight.async_slot(self._request_timeout(deadline)):
                    timeout = self._request_timeout(deadline)
                    async for chunk in self._model.astream(messages, timeout=timeout):
                        truncated = truncated or _truncated(chunk)
                        if isinstance(chunk.content, str) and chunk.content:
                            written = True
                            pieces.put_nowait(chunk.content)
            # LlmFailure (the deadline passed) too: _failure keeps it as it is.
            except Exception as error:  # noqa: BLE001 (as in _invoke)
                failure = _failure(error)
                delay = None if written else self._retry_delay(failure, error, attempt, deadline)
                if delay is None:
                    pieces.put_nowait(failure)
                    return
                await asyncio.sleep(delay)
                attempt += 1
                continue
            pieces.put_nowait(Completion("", truncated=truncated))
            return

    def brief(self, topic: str, passages: Sequence[Passage]) -> str:
        """A briefing in the prompt's plain-text form, to be parsed and checked by the caller.
        Cut off at max_tokens, its unfinished last line is dropped."""
        request = self.prompts.brief.substitute(
            passages=format_passages(passages), topic=_neutralise(topic)
        )
        reply = self._invoke([SystemMessage(self.prompts.system), HumanMessage(request)], None)
        text = reply.text.strip()
        if reply.truncated and not text.endswith(("]", "].")):
            log.info("the briefing was cut off at max_tokens; dropping its unfinished last line")
            return text.rsplit("\n", 1)[0] if "\n" in text else ""
        return reply.text

    def condense(
        self, question: str, history: Sequence[Turn], deadline: Deadline | None = None
    ) -> str:
        """The follow-up as a standalone question; the question itself if that fails or the
        rewrite is no plausible question."""
        if not history:
            return question
        conversation = "\n".join(
            f"User: {_neutralise(turn.question)}\nAssistant: {_neutralise(turn.answer)}"
            for turn in history
        )
        request = self.prompts.condense.substitute(
            history=conversation, question=_neutralise(question)
        )
        try:
            rewritten = self._invoke([HumanMessage(request)], deadline).text.strip()
        except LlmFailure as failure:  # a failed rewrite costs only the context
            log.warning("could not rewrite a follow-up (%s); using it as asked", failure.reason)
            return question
        candidate = plausible_rewrite(rewritten, question, conversation_chars(history))
        if candidate is None:
            log.info("the rewritten follow-up is no single plausible question; using it as asked")
            return question
        return candidate
