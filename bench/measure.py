"""The two measurements every benchmark takes the same way: a 95th percentile, and a memory
figure of a process from /proc (Linux)."""

from __future__ import annotations

import statistics
from pathlib import Path


def p95(values: list[float]) -> float:
    """The 95th percentile (statistics' "exclusive" method, as every report here uses)."""
    return statistics.quantiles(values, n=20)[18]


def status_mb(field: str, pid: str = "self") -> float:
    """A memory field of /proc/<pid>/status (VmRSS, VmHWM, ...), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no {field}")
