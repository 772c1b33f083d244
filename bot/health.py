"""Is the bot serving? For a container health check: ``python -m bot.health`` exits 0 or 1.

Long polling has no port to ask, so the bot keeps a readiness marker in the data dir: written
once the index is loaded (post_init), removed at shutdown and before the next start. The marker
records the bot's pid, so a marker whose process is gone does not count. In webhook mode the
check asks the bot's own ``GET /healthz``, which also knows whether the application still runs.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from retrieval.storage import write_atomically

MARKER = "bot.ready"
HEALTH_PATH = "/healthz"  # bot/webhook.py serves it
TIMEOUT_SECONDS = 5.0


def marker_path(data_dir: Path) -> Path:
    return data_dir / MARKER


def mark_ready(data_dir: Path, index_version: int | None) -> None:
    """Record that this process serves from a loaded index."""
    data_dir.mkdir(parents=True, exist_ok=True)
    record = {"pid": os.getpid(), "index_version": index_version}
    write_atomically(marker_path(data_dir), json.dumps(record) + "\n")


def clear_ready(data_dir: Path) -> None:
    marker_path(data_dir).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def polling_ready(data_dir: Path) -> tuple[bool, str]:
    """Whether a live bot process marked itself ready in this data dir, and why not."""
    try:
        record = json.loads(marker_path(data_dir).read_text(encoding="utf-8"))
        pid = int(record["pid"])
    except FileNotFoundError:
        return False, "no readiness marker: the index is not loaded yet"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return False, f"unreadable readiness marker: {error}"
    if not _alive(pid):
        return False, f"the process that marked itself ready ({pid}) is gone"
    return True, f"ready, index v{record.get('index_version')}"


def webhook_ready(listen: str, port: int) -> tuple[bool, str]:
    """Whether the webhook server answers 200 on /healthz."""
    host = "127.0.0.1" if listen in {"0.0.0.0", "", "::"} else listen  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{port}{HEALTH_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status == 200, response.read(300).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return False, f"{url}: HTTP {error.code} {error.read(300).decode('utf-8', 'replace')}"
    except OSError as error:
        return False, f"{url}: {error}"


def main() -> int:
    # Imported here so that the marker functions above stay cheap for the bot to import.
    from config import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 1
    if settings.webhook_url:
        ok, detail = webhook_ready(settings.webhook_listen, settings.webhook_port)
    else:
        ok, detail = polling_ready(settings.data_dir)
    print(detail, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
