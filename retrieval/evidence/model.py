"""A small logistic regression in numpy: fitted offline (bench/fit_answerer.py) on the tuning
halves of the dev sets, stored as named weights in weights.json, applied at answer time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LogisticModel:
    """P(label) = sigmoid(bias + sum weight * (feature - mean) / scale), by feature name."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def logits(self, rows: Vector) -> Vector:
        standard = (rows - np.asarray(self.means)) / np.asarray(self.scales)
        return standard @ np.asarray(self.weights) + self.bias

    def probabilities(self, rows: Vector) -> Vector:
        return 1.0 / (1.0 + np.exp(-self.logits(rows)))

    def to_json(self) -> dict[str, Any]:
        return {
            "bias": round(self.bias, 6),
            "features": {
                name: {"weight": round(w, 6), "mean": round(m, 6), "scale": round(s, 6)}
                for name, w, m, s in zip(
                    self.features, self.weights, self.means, self.scales, strict=True
                )
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], expected: Sequence[str]) -> LogisticModel:
        """The stored model, which must have exactly the features the code computes."""
        features = data["features"]
        if list(features) != list(expected):
            raise ValueError(f"the stored model's features {list(features)} are not {expected}")
        return cls(
            tuple(expected),
            tuple(float(features[name]["weight"]) for name in expected),
            float(data["bias"]),
            tuple(float(features[name]["mean"]) for name in expected),
            tuple(float(features[name]["scale"]) for name in expected),
        )


def fit_logistic(
    features: Sequence[str],
    rows: Vector,
    labels: Vector,
    sample_weights: Vector | None = None,
    l2: float = 1.0,
    iterations: int = 50,
) -> LogisticModel:
    """Weighted, L2-regularised logistic regression by Newton's method on standardised
    features (the bias is not regularised)."""
    means = rows.mean(axis=0)
    scales = rows.std(axis=0)
    scales[scales == 0] = 1.0
    design = np.hstack([np.ones((len(rows), 1)), (rows - means) / scales])
    weights = np.ones(len(rows)) if sample_weights is None else sample_weights
    penalty = np.eye(design.shape[1]) * l2
    penalty[0, 0] = 0.0
    beta = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-design @ beta))
        gradient = design.T @ (weights * (p - labels)) + penalty @ beta
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return LogisticModel(
        tuple(features),
        tuple(float(b) for b in beta[1:]),
        float(beta[0]),
        tuple(float(m) for m in means),
        tuple(float(s) for s in scales),
    )


def load_models(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))
