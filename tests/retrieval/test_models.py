"""The shared data types' own arithmetic: latent terms pooled and compared."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.models import LatentTerms


def terms(weights: dict[int, float]) -> LatentTerms:
    ids = sorted(weights)
    return LatentTerms(
        np.asarray(ids, dtype=np.int64), np.asarray([weights[i] for i in ids], np.float32)
    )


def test_pooled_terms_keep_each_term_at_its_strongest() -> None:
    pooled = LatentTerms.pooled([terms({3: 1.0, 9: 0.5}), terms({1: 2.0, 9: 4.0})])
    assert pooled.ids.tolist() == [1, 3, 9]
    assert pooled.weights.tolist() == [2.0, 1.0, 4.0]
    assert LatentTerms.pooled([]).ids.size == 0


def test_coverage_is_the_share_of_weight_the_other_has_at_the_weaker_of_the_two() -> None:
    question = terms({1: 2.0, 2: 1.0, 3: 1.0})
    assert question.covered_by(terms({1: 5.0, 2: 1.0, 3: 9.0})) == pytest.approx(1.0)
    # term 1 at 1.0 of its 2.0, term 3 missing: (1.0 + 1.0) of 4.0
    assert question.covered_by(terms({1: 1.0, 2: 3.0, 7: 8.0})) == pytest.approx(0.5)
    assert question.covered_by(terms({7: 1.0})) == 0.0
    assert terms({}).covered_by(question) == 0.0


def test_the_cosine_of_latent_terms_is_symmetric_and_one_for_the_same_terms() -> None:
    first, second = terms({1: 1.0, 2: 2.0}), terms({2: 1.0, 5: 1.0})
    assert first.cosine(first) == pytest.approx(1.0)
    assert first.cosine(second) == pytest.approx(second.cosine(first))
    assert first.cosine(second) == pytest.approx(2.0 / (np.sqrt(5.0) * np.sqrt(2.0)))
    assert first.cosine(terms({})) == 0.0
