"""bench/fit_answerer.py's weighting of the dev sets (the fit itself runs on the real sets)."""

from __future__ import annotations

import pytest

from bench.fit_answerer import set_weights


def test_each_set_weighs_as_much_as_any_other_whatever_its_size() -> None:
    names = ["seed", "squad", "squad", "squad", "news", "news"]
    weights = set_weights(names)
    per_set = {
        name: sum(w for n, w in zip(names, weights, strict=True) if n == name) for name in names
    }
    assert per_set["seed"] == pytest.approx(per_set["squad"]) == pytest.approx(per_set["news"])
    assert weights.mean() == pytest.approx(1.0)
    assert weights[0] == pytest.approx(3 * weights[1])  # one seed question, three of SQuAD
