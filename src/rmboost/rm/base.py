"""The `RewardModel` interface every kind implements, and the directory format that lets
`RewardModel.load(DIR)` find the right kind.

A saved model is a directory holding `rmboost_rm.json` (`{"kind": ..., "settings": {...}}`) plus
whatever weights that kind writes, and `training_curve.jsonl` (one row per evaluation step: step,
epoch, mean training loss, validation accuracy, seconds) when training recorded one. Training
lives in each kind's module, dispatch in `train.py`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rmboost.errors import UserError
from rmboost.io.rows import write_rows
from rmboost.records import Pair, Prompt
from rmboost.rm.training_loop import Progress

META_FILE = "rmboost_rm.json"
CURVE_FILE = "training_curve.jsonl"

# kind -> "module:Class"; the class must have `from_dir(directory, settings)`.
KINDS = {
    "embed-linear": "rmboost.rm.embed_linear:EmbedLinearRM",
    "maxsim": "rmboost.rm.maxsim:MaxSimRM",
    "minilm": "rmboost.rm.minilm:MiniLMRM",
    "smollm2": "rmboost.rm.trl_reward:TRLRewardModel",
    "hf": "rmboost.rm.trl_reward:TRLRewardModel",
}


S = TypeVar("S")


def with_overrides(settings: S, seed: int, overrides: dict[str, Any]) -> S:
    """`settings` (a dataclass) with `seed` and every non-None override applied; an override the
    kind does not have is an error, not silently ignored."""
    names = {f.name for f in dataclasses.fields(settings)}  # type: ignore[arg-type]
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - names)
    if unknown:
        raise UserError(f"this reward model kind has no setting {', '.join(unknown)}")
    return dataclasses.replace(settings, seed=seed, **given)  # type: ignore[type-var]


def kind_class(kind: str) -> type[RewardModel]:
    base = kind.split(":", 1)[0]
    if base not in KINDS:
        raise UserError(
            f"unknown reward model kind {kind!r}; choose maxsim, minilm, embed-linear, smollm2 or hf:PATH"
        )
    module, cls = KINDS[base].split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


class RewardModel(ABC):
    """Scores a response to a prompt; higher means preferred. Scoring is deterministic."""

    kind: ClassVar[str]
    # Rows of the training curve (see the module docstring); empty for a loaded model.
    curve: list[dict[str, Any]]

    @abstractmethod
    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        """One score per (prompt, response); the two sequences have the same length."""

    @classmethod
    @abstractmethod
    def train(
        cls,
        pairs: Sequence[Pair],
        kind: str,
        seed: int = 0,
        validation: Sequence[Pair] = (),
        on_progress: Progress | None = None,
        **overrides: Any,
    ) -> RewardModel:
        """Train on `pairs`; `overrides` replace default settings (epochs, lr, max_length, ...).
        With `validation` pairs the checkpoint with the best accuracy on them is kept;
        `on_progress(step, total_steps, loss, val_accuracy)` is called at each evaluation step."""

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """What `from_dir` needs besides the weights; written to `rmboost_rm.json`."""

    @abstractmethod
    def save_weights(self, directory: Path) -> None:
        """Write the weights into `directory` (which exists)."""

    @classmethod
    @abstractmethod
    def from_dir(cls, directory: Path, settings: dict[str, Any]) -> RewardModel:
        """Rebuild a model saved with `save`."""

    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.save_weights(d)
        if getattr(self, "curve", None):
            write_rows(d / CURVE_FILE, self.curve)
        meta = {"kind": self.kind_name(), "settings": self.settings()}
        (d / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return d

    def kind_name(self) -> str:
        return self.kind

    @staticmethod
    def load(directory: str | Path) -> RewardModel:
        d = Path(directory)
        meta_path = d / META_FILE
        if not meta_path.is_file():
            raise UserError(f"{d}: not a saved reward model (no {META_FILE})")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:  # ValueError: not UTF-8, not JSON
            raise UserError(f"{meta_path}: not readable JSON: {e}") from e
        settings = meta.get("settings", {}) if isinstance(meta, dict) else None
        if not isinstance(meta, dict) or not isinstance(meta.get("kind"), str) or not isinstance(settings, dict):
            raise UserError(f"{meta_path}: must be a JSON object with 'kind' (text) and 'settings' (an object)")
        try:
            cls = kind_class(meta["kind"])
        except UserError as e:
            raise UserError(f"{meta_path}: {e}") from e
        try:
            return cls.from_dir(d, settings)
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise UserError(f"{d}: cannot load this {meta['kind']} reward model: {e}") from e

    def score_pairs(self, pairs: Sequence[Pair]) -> tuple[list[float], list[float]]:
        """Scores of the chosen and of the rejected response of each pair, in one batch."""
        prompts = [p.prompt for p in pairs]
        both = self.score(prompts + prompts, [p.chosen for p in pairs] + [p.rejected for p in pairs])
        return both[: len(pairs)], both[len(pairs) :]
