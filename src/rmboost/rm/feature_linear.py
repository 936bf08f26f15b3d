"""`features` and `features-sim`: a linear Bradley-Terry reward model over per-response features,
with every weight zero before training, so an untrained model scores every response the same and
gets exactly 0.5 on any set of pairs. What it prefers comes from its labels alone: trained on the
same pairs with chosen and rejected swapped it learns the opposite weights.

`features` reads the word-level features of `text_features.py` (support by the prompt, coverage
of the question, repetition, length, ...). `features-sim` adds three similarities from frozen
all-MiniLM-L6-v2 sentence embeddings (`sentence_similarity.py`): how close each response sentence
comes to some prompt sentence (mean and weakest), and the response to the question.

Training: features are scaled by their standard deviation over the training responses; the L2
strength is chosen on the validation split of the training questions (`validation.py`) from
`l2_grid`, and the model is then refitted on all the pairs with that strength (Newton's method on
the convex loss, so the fit does not depend on the seed). Without validation pairs the middle of
the grid is used. The curve has one row per strength tried. Left out: nonlinear heads (a hidden
layer bought no validation accuracy on QA-Feedback's training questions).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rmboost.measure.outcomes import pairwise_accuracy
from rmboost.records import Pair, Prompt
from rmboost.rm.base import RewardModel, with_overrides
from rmboost.rm.text_features import NAMES, feature_rows
from rmboost.rm.training_loop import Progress

WEIGHTS_FILE = "weights.json"
SIM_NAMES = ("sim_mean", "sim_weakest", "sim_question")


@dataclass
class FeatureSettings:
    l2_grid: list[float] = field(default_factory=lambda: [0.1, 0.3, 1.0, 3.0, 10.0])
    similarities: bool = False
    newton_steps: int = 25
    seed: int = 0


def fit_bradley_terry(diff: np.ndarray, l2: float, steps: int = 25) -> np.ndarray:
    """Weights `w` minimising mean(log(1 + exp(-diff @ w))) + l2/2 |w|^2, from w = 0, by Newton's
    method (the loss is convex, so this is the one optimum whatever the start)."""
    w = np.zeros(diff.shape[1])
    for _ in range(steps):
        s = 1.0 / (1.0 + np.exp(-(diff @ w)))
        grad = diff.T @ (s - 1.0) / len(diff) + l2 * w
        hess = (diff * (s * (1.0 - s))[:, None]).T @ diff / len(diff) + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    return w


class FeatureLinearRM(RewardModel):
    kind = "features"
    settings_type = FeatureSettings

    def __init__(self, settings: FeatureSettings, weights: np.ndarray | None = None,
                 scale: np.ndarray | None = None) -> None:
        self.cfg = settings
        n = len(self.names())
        self.weights = np.zeros(n) if weights is None else np.asarray(weights, dtype=float)
        self.scale = np.ones(n) if scale is None else np.asarray(scale, dtype=float)
        self.curve: list[dict[str, Any]] = []

    def names(self) -> tuple[str, ...]:
        return NAMES + (SIM_NAMES if self.cfg.similarities else ())

    def kind_name(self) -> str:
        return "features-sim" if self.cfg.similarities else "features"

    def features(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> np.ndarray:
        rows = np.asarray(feature_rows(prompts, responses), dtype=float).reshape(len(responses), len(NAMES))
        if not self.cfg.similarities:
            return rows
        from rmboost.rm.sentence_similarity import similarity_rows

        return np.hstack([rows, np.asarray(similarity_rows(prompts, responses), dtype=float).reshape(-1, 3)])

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        if not responses:
            return []
        return [float(v) for v in (self.features(prompts, responses) / self.scale) @ self.weights]

    @classmethod
    def train(
        cls,
        pairs: Sequence[Pair],
        kind: str = "features",
        seed: int = 0,
        validation: Sequence[Pair] = (),
        on_progress: Progress | None = None,
        **overrides: Any,
    ) -> FeatureLinearRM:
        model = cls.untrained(kind, seed, **overrides)
        cfg = model.cfg
        start = time.perf_counter()
        everything = list(pairs) + list(validation)
        # Both sides of every pair in one pass: the scale is over all of them, the fit over their differences.
        sides = model.features([p.prompt for p in everything] * 2,
                               [p.chosen for p in everything] + [p.rejected for p in everything])
        model.scale = np.where(sides.std(axis=0) > 1e-9, sides.std(axis=0), 1.0)
        diff = (sides[: len(everything)] - sides[len(everything) :]) / model.scale
        train, held = diff[: len(pairs)], diff[len(pairs) :]
        grid = [float(x) for x in cfg.l2_grid] or [1.0]
        best_l2 = grid[len(grid) // 2]
        if len(held):
            scores = []
            for step, l2 in enumerate(grid, 1):
                w = fit_bradley_terry(train, l2, cfg.newton_steps)
                acc, loss = pairwise_accuracy(held @ w, 0.0), float(np.mean(np.logaddexp(0.0, -(train @ w))))
                scores.append(acc)
                model.curve.append({"step": step, "l2": l2, "loss": round(loss, 5), "val_accuracy": acc,
                                    "seconds": round(time.perf_counter() - start, 2)})
                if on_progress is not None:
                    on_progress(step, len(grid), loss, acc)
            best_l2 = grid[int(np.argmax(scores))]  # the first of equal bests: the weakest penalty tried
        model.weights = fit_bradley_terry(diff, best_l2, cfg.newton_steps)
        model.curve.append({"step": len(model.curve) + 1, "l2": best_l2, "refit_on_all": True,
                            "train_accuracy": pairwise_accuracy(diff @ model.weights, 0.0),
                            "seconds": round(time.perf_counter() - start, 2)})
        return model

    @classmethod
    def untrained(cls, kind: str = "features", seed: int = 0, **overrides: Any) -> FeatureLinearRM:
        """Every weight zero: every response scores 0."""
        return cls(with_overrides(FeatureSettings(similarities=kind == "features-sim"), seed, overrides))

    def settings(self) -> dict[str, Any]:
        return asdict(self.cfg)

    def save_weights(self, directory: Path) -> None:
        payload = {"names": list(self.names()), "weights": self.weights.tolist(), "scale": self.scale.tolist()}
        (directory / WEIGHTS_FILE).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dir(cls, directory: Path, settings: dict[str, Any]) -> FeatureLinearRM:
        cfg = FeatureSettings(**settings)
        saved = json.loads((directory / WEIGHTS_FILE).read_text(encoding="utf-8"))
        model = cls(cfg, np.asarray(saved["weights"]), np.asarray(saved["scale"]))
        if list(saved["names"]) != list(model.names()):
            raise ValueError(f"{WEIGHTS_FILE} names features {saved['names']}, this version computes {model.names()}")
        return model
