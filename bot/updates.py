"""Reading updates one at a time, so one that python-telegram-bot cannot read (a "poison"
update: an object of a newer Bot API, a malformed field) is skipped instead of failing the
others.

PTB parses a getUpdates batch as a whole: one unreadable update made it raise, the updater
fetch the same batch again at once, and the bot loop on it forever (92,066 log lines in
80 s) while answering nobody. Polling reads through `UpdatesRequest`, the webhook through
`read_update`; both log skipped updates through `SkippedUpdates`, which keeps it to one line
per kind of update per minute.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram import Bot, Update
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

# One line a minute per kind is enough to notice and small enough when Telegram sends
# thousands (every poll update, say, after a Bot API change).
SKIP_LOG_SECONDS = 60.0
_MAX_ERROR_CHARS = 200


class SkippedUpdates:
    """Counts the updates skipped, by kind, and logs at most one line per kind per interval."""

    def __init__(self, interval: float = SKIP_LOG_SECONDS) -> None:
        self._interval = interval
        self._counts: dict[str, int] = {}
        self._logged: dict[str, float] = {}

    def record(self, raw: object, error: Exception) -> None:
        kind = _kind(raw)
        self._counts[kind] = count = self._counts.get(kind, 0) + 1
        now = time.monotonic()
        last = self._logged.get(kind)
        if last is not None and now - last < self._interval:
            return
        self._logged[kind] = now
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        reason = f"{type(error).__name__}: {error}"[:_MAX_ERROR_CHARS]
        # The reason names fields, never their values: no message text reaches the log.
        log.warning(
            "Skipped a %s update (id %s) this bot cannot read: %s. %d %s updates skipped "
            "so far; this is logged at most once every %g s.",
            kind,
            update_id,
            reason,
            count,
            kind,
            self._interval,
        )


def _kind(raw: object) -> str:
    """What an update holds ("message", "poll", ...): the key next to its update_id."""
    if not isinstance(raw, dict):
        return "malformed"
    return next((str(key) for key in raw if key != "update_id"), "empty")


def read_update(raw: object, bot: Bot | None, skipped: SkippedUpdates) -> Update | None:
    """The update, or None (and counted in `skipped`) when PTB cannot read it."""
    try:
        if not isinstance(raw, dict):
            raise TypeError(f"an update is a JSON object, not {type(raw).__name__}")
        return Update.de_json(raw, bot)
    except Exception as error:  # PTB raises TypeError, ValueError, KeyError... on bad data
        skipped.record(raw, error)
        return None


class UpdatesRequest(HTTPXRequest):
    """The connection getUpdates uses (ApplicationBuilder.get_updates_request), with PTB's
    defaults for it. An update PTB cannot read reaches PTB as an empty Update with the same
    update_id: no handler matches it, and the updater confirms it like any other, so the next
    getUpdates starts after it."""

    __slots__ = ("_skipped",)

    def __init__(self, skipped: SkippedUpdates) -> None:
        super().__init__()
        self._skipped = skipped

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data = super().parse_json_payload(payload)
        updates = data.get("result")
        if data.get("ok") is True and isinstance(updates, list):
            data["result"] = [readable for raw in updates if (readable := self._readable(raw))]
        return data

    def _readable(self, raw: object) -> object:
        """`raw` if PTB can read it, else an empty update with its id; None when it has no id
        to confirm it by (Telegram always sends one)."""
        if read_update(raw, None, self._skipped) is not None:
            return raw
        if isinstance(raw, dict) and isinstance(raw.get("update_id"), int):
            return {"update_id": raw["update_id"]}
        return None
