"""The start-up check of LLM mode: does the server serve BRIEFBOT_LLM_MODEL?

`briefbot bot`, `run`, `chat` and `ask` call `check_model` before they start. It asks the
server for its models (GET /v1/models, the openai client's `models.list()`):

* the model is listed: fine;
* it is not: `ModelCheckError`, naming the setting and the models that are served (the CLI
  exits 2, as for any bad setting);
* the server rejects the key (401/403): `ModelCheckError` naming OPENAI_API_KEY (never its
  value);
* the server has no such endpoint (404), or cannot be reached or fails: a logged warning and
  no refusal. Answers then fall back to the extractive ones by themselves, should the model
  really be missing; a server that is down at start-up may well be up at the first question.
"""

from __future__ import annotations

import logging
import re

import openai

from config import Settings, env_name
from retrieval.errors import BriefbotError

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0  # seconds the check may take, at most (a busy local server makes it wait)
_LISTED = 20  # models named in the error message, at most


class ModelCheckError(BriefbotError):
    """The LLM settings do not fit the server; the message names the variable."""


def _where(settings: Settings) -> str:
    """The server, for messages: the base URL without any credentials in it."""
    if settings.openai_base_url is None:
        return "the OpenAI API"
    return re.sub(r"//[^/@]*@", "//", settings.openai_base_url)


def check_model(settings: Settings) -> None:
    """Stop (ModelCheckError) when the server lists its models and BRIEFBOT_LLM_MODEL is not
    among them; warn when it cannot tell. Nothing to check offline."""
    if settings.openai_api_key is None:
        return
    where = _where(settings)
    client = openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=min(CHECK_TIMEOUT, settings.llm_timeout),
        max_retries=0,
    )
    try:
        served = sorted({model.id for model in client.models.list()})
    except openai.NotFoundError:
        log.warning(
            "%s does not list its models (GET /models: 404); cannot check %s=%s",
            where,
            env_name("llm_model"),
            settings.llm_model,
        )
        return
    except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
        raise ModelCheckError(
            f"{env_name('openai_api_key')} was refused by {where} ({error.status_code}); "
            "check the key"
        ) from None
    # The server is down, slow, or answered something else: answers fall back on their own.
    except Exception as error:  # noqa: BLE001
        log.warning(
            "could not ask %s for its models (%s); not checking %s",
            where,
            type(error).__name__,
            env_name("llm_model"),
        )
        return
    finally:
        client.close()
    if settings.llm_model in served:
        return
    listed = ", ".join(served[:_LISTED]) or "none"
    more = f" and {len(served) - _LISTED} more" if len(served) > _LISTED else ""
    raise ModelCheckError(
        f"{env_name('llm_model')}={settings.llm_model} is not served by {where}; "
        f"it serves: {listed}{more}"
    )
