"""The chat model for LLM answers: LangChain's ChatOpenAI over the openai client, pointed at
OpenAI or any OpenAI-compatible server. Failures become LlmFailure with a short reason; the
caller then falls back to the extractive answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from config import Settings
from retrieval.llm.prompts import PromptSet
from retrieval.models import Passage, Turn

log = logging.getLogger(__name__)


class LlmFailure(Exception):
    """The model gave no usable completion; `reason` is a short machine-readable word."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


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


class ChatModel:
    def __init__(self, settings: Settings, prompts: PromptSet) -> None:
        if settings.openai_api_key is None:
            raise ValueError("LLM mode needs OPENAI_API_KEY")
        self.prompts = prompts
        self._model = ChatOpenAI(
            model=settings.llm_model,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
        )

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

    def _invoke(self, messages: list[BaseMessage]) -> str:
        """The model's reply, or LlmFailure with the reason."""
        try:
            message = self._model.invoke(messages)
        # Any failure of the remote model, including a 200 with a body that is no completion
        # (the client then fails with AttributeError or JSONDecodeError), means: fall back.
        except Exception as error:  # noqa: BLE001
            raise _failure(error) from None
        return self._content(message)

    def complete(self, question: str, passages: Sequence[Passage], remind: bool = False) -> str:
        return self._invoke(self._messages(question, passages, remind))

    async def stream(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        """The answer so far, growing, as the model writes it."""
        text = ""
        try:
            async for chunk in self._model.astream(self._messages(question, passages, False)):
                if isinstance(chunk.content, str) and chunk.content:
                    text += chunk.content
                    yield text
        except Exception as error:  # noqa: BLE001 (as in _invoke)
            raise _failure(error) from None
        if not text.strip():
            raise LlmFailure("empty")

    def brief(self, topic: str, passages: Sequence[Passage]) -> str:
        """A briefing in the prompt's plain-text form, to be parsed and checked by the caller."""
        request = self.prompts.brief.substitute(
            passages=format_passages(passages), topic=_neutralise(topic)
        )
        return self._invoke([SystemMessage(self.prompts.system), HumanMessage(request)])

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The follow-up as a standalone question; the question itself if that fails."""
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
            rewritten = self._invoke([HumanMessage(request)]).strip()
        except LlmFailure as failure:  # a failed rewrite costs only the context
            log.warning("could not rewrite a follow-up (%s); using it as asked", failure.reason)
            return question
        return rewritten if 0 < len(rewritten) <= 4 * len(question) + 400 else question
