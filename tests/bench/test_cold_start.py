"""bench.cold_start's pure parts: import times summed by package, and the report's goal
column. No processes started, no timed assertions."""

from __future__ import annotations

import pytest

from bench.cold_start import ColdStart, CommandStart, import_seconds_by_package, markdown

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       300 |        300 |       chromadb.config
import time:      1200 |       1500 |     chromadb.api
import time:       500 |       2000 |   chromadb
import time:      2500 |       2500 |   numpy
import time:       100 |       4600 | cli.main
"""


def test_import_times_are_self_times_summed_by_top_level_package_heaviest_first() -> None:
    totals = import_seconds_by_package(IMPORTTIME)
    assert list(totals) == ["numpy", "chromadb", "cli"]
    assert totals["chromadb"] == pytest.approx(0.002)  # not the 1.5 ms + 2 ms of cumulatives
    assert sum(totals.values()) == pytest.approx(0.0046)  # the packages add up to the total


def test_the_report_says_which_command_missed_the_goal() -> None:
    result = ColdStart(
        commands=[CommandStart("ask", 2.5, 2.7, 3), CommandStart("bot", 4.2, 4.5, 3)],
        bot_first_request_seconds=3.0,
        bot_first_poll_seconds=3.6,
        interpreter_seconds=0.02,
        steps={"first answer": 0.4},
        imports=[("chromadb", 1.1)],
        import_total_seconds=2.0,
        ended="2026-12-02 18:00 UTC",
        load_average=0.5,
    )
    rows = {line.split(" | ")[0]: line for line in markdown(result).splitlines()}
    assert rows["| `briefbot ask`"].endswith("| met |")
    assert rows["| `briefbot bot`"].endswith("| missed |")
    assert "chromadb 1.10 s" in markdown(result)
