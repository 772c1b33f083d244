"""`.env.example`, generated from the Settings class so it never drifts from it.

``python -m config.env_example`` rewrites it; ``--check`` exits 1 when it is out of date
(tests/config/test_env_example.py does the same in ``make test``).
"""

from __future__ import annotations

import sys
import textwrap
import typing
from pathlib import Path

from pydantic.fields import FieldInfo

from config.settings import Settings, env_name

PATH = Path(__file__).resolve().parent.parent / ".env.example"
WIDTH = 99
HEADER = """\
# Every setting briefbot reads, with its default. Copy this file to .env (next to the Makefile,
# or pass it with `docker run --env-file` / compose's env_file) and uncomment what you change.
# Generated from config/settings.py by `python -m config.env_example`: edit the settings there.
"""


def default_text(field: FieldInfo) -> str:
    """A field's default as it would be written in the environment."""
    value = field.get_default(call_default_factory=True)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return str(value)


def _choices(field: FieldInfo) -> list[str]:
    annotation = field.annotation
    if typing.get_origin(annotation) is typing.Literal:
        return [str(choice) for choice in typing.get_args(annotation)]
    return []


def render() -> str:
    blocks = [HEADER]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("`", "")
        choices = _choices(field)
        if choices:
            description += f" One of: {', '.join(choices)}."
        if field.get_default() is None and "Unset" not in description:
            description += " Unset by default."
        lines = textwrap.wrap(description, WIDTH - 2) or [name]
        comment = "".join(f"# {line}\n" for line in lines)
        blocks.append(f"{comment}# {env_name(name)}={default_text(field)}\n")
    return "\n".join(blocks)


def main(argv: list[str], path: Path = PATH) -> int:
    """Write `path` (the repository's .env.example), or with --check say whether it is
    current."""
    text = render()
    if argv == ["--check"]:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(
                f"{path.name} is out of date: run `python -m config.env_example`", file=sys.stderr
            )
            return 1
        return 0
    if argv:
        print("usage: python -m config.env_example [--check]", file=sys.stderr)
        return 2
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
