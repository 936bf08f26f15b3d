"""The `RewardModel` interface every kind implements, and the directory format that lets
`RewardModel.load(DIR)` find the right kind.

A saved model is a directory holding `rmboost_rm.json` (`{"kind": ..., "settings": {...}}`) plus
whatever weights that kind writes, and `training_curve.jsonl` (one row per evaluation step: step,
epoch, mean training loss, validation accuracy, seconds) when training recorded one. Training
lives in each kind's module, dispatch in `train.py`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
import pickle
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rmboost.errors import UsageError, UserError
from rmboost.io.rows import write_rows
from rmboost.records import Pair, Prompt
from rmboost.rm.training_loop import Progress

META_FILE = "rmboost_rm.json"
CURVE_FILE = "training_curve.jsonl"

# kind -> "module:Class"; the class must have `from_dir(directory, settings)`.
KINDS = {
    "features": "rmboost.rm.feature_linear:FeatureLinearRM",
    "features-sim": "rmboost.rm.feature_linear:FeatureLinearRM",
    "embed-linear": "rmboost.rm.embed_linear:EmbedLinearRM",
    "maxsim": "rmboost.rm.maxsim:MaxSimRM",
    "minilm": "rmboost.rm.minilm:MiniLMRM",
    "smollm2": "rmboost.rm.trl_reward:TRLRewardModel",
    "hf": "rmboost.rm.trl_reward:TRLRewardModel",
}


S = TypeVar("S")


def load_errors() -> tuple[type[Exception], ...]:
    """What loading weights raises when the files are wrong: OSError (missing, unreadable),
    ValueError/TypeError/KeyError (wrong contents or settings), RuntimeError (torch: a shape that does
    not fit), an unpickling error (a `.bin` that is no checkpoint), safetensors' own error (a
    `.safetensors` that is none). A model folder is the user's input: each is one line, not a traceback."""
    found: tuple[type[Exception], ...] = (OSError, ValueError, TypeError, KeyError, RuntimeError,
                                          pickle.UnpicklingError)
    try:
        from safetensors import SafetensorError
    except ImportError:  # installed without the reward-model extra: nothing can load weights anyway
        return found
    return (*found, SafetensorError)


# A setting of training itself, not of a kind (the share held out to pick a checkpoint, `train.py`).
EVERY_KIND = frozenset({"validation_fraction"})


def refuse_unknown_settings(settings_type: type | None, overrides: dict[str, Any], who: str,
                            shared: frozenset[str] = EVERY_KIND, spell: Callable[[str], str] = str) -> None:
    """The one check of a kind's settings (`rmboost train`'s options, an experiment's `rm_overrides`,
    a kind's own training): a one-line `UsageError` naming each override that `settings_type` has no
    field for (None is not given; `seed` is the seed's), and the settings it has."""
    if settings_type is None:
        return
    names = {f.name for f in dataclasses.fields(settings_type)} - {"seed"}
    unknown = sorted(k for k, v in overrides.items() if v is not None and k not in names | shared)
    if unknown:
        raise UsageError(f"{who} has no setting {', '.join(map(spell, unknown))}; its settings are "
                         f"{', '.join(sorted(names))}")


def with_overrides(settings: S, seed: int, overrides: dict[str, Any]) -> S:
    """`settings` (a dataclass) with `seed` and every non-None override applied; an override the
    kind does not have is an error, not silently ignored."""
    refuse_unknown_settings(type(settings), overrides, "this reward model kind", shared=frozenset())
    given = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(settings, seed=seed, **given)  # type: ignore[type-var]


def check_overrides(kind: str, overrides: dict[str, Any], as_flags: bool = True) -> None:
    """Refuse, before any data is read, a setting (`--epochs`, ...; with `as_flags` False, `epochs`)
    that `kind` does not have. `validation_fraction` is every kind's."""
    refuse_unknown_settings(kind_class(kind).settings_type, overrides, f"reward model kind {kind}",
                            spell=(lambda k: "--" + k.replace("_", "-")) if as_flags else str)


def check_model_output(directory: str | Path, replace: bool) -> None:
    """Refuse to train into a folder that already holds something (a saved model of any kind, or
    other files) unless `replace`: then `save(..., replace=True)` replaces it wholly."""
    d = Path(directory)
    if replace or not d.is_dir() or not any(d.iterdir()):
        return
    try:
        meta, _ = saved_meta(d)
        what = f"a saved {meta['kind']} reward model"
    except UserError:
        what = "files that are no saved reward model"
    raise UsageError(f"{d} already holds {what}; give --replace to replace the folder wholly, or another --output")


def kind_class(kind: str) -> type[RewardModel]:
    """The class of `kind`: the one check of a kind's name (`hf` takes a path, no other kind does),
    for `rmboost train --rm`, an experiment's `reward_models` and a saved model's `rmboost_rm.json`
    (where it is bad input). An unknown kind is a usage mistake, a one-line `UsageError`."""
    base, _, path = kind.partition(":")
    if base not in KINDS or (base == "hf") != bool(path):
        raise UsageError(
            f"unknown reward model kind {kind!r}; choose one of {', '.join(k for k in KINDS if k != 'hf')} or hf:PATH"
        )
    module, cls = KINDS[base].split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def saved_meta(directory: Path) -> tuple[dict[str, Any], type[RewardModel]]:
    """The `rmboost_rm.json` of a saved model's folder and the class of its kind, without loading
    any weights: what `load` checks first, and what a command checks before its expensive part."""
    if not directory.exists():
        raise UserError(f"{directory}: no such folder (a saved reward model is a folder made by rmboost train)")
    if not directory.is_dir():
        raise UserError(f"{directory}: not a folder (a saved reward model is a folder made by rmboost train)")
    meta_path = directory / META_FILE
    if not meta_path.is_file():
        raise UserError(f"{directory}: not a saved reward model (no {META_FILE})")
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
    return {"kind": meta["kind"], "settings": settings}, cls


def _one_prompt(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and bool(value)
                                      and all(isinstance(m, dict) and "role" in m for m in value))


def one_or_many(score: Callable[..., list[float]]) -> Callable[..., list[float]]:
    """`score` taking, besides two equal-length lists, one prompt with one response (a list of one
    score) or one prompt with a list of responses (one score each)."""

    @functools.wraps(score)
    def wrapper(self: Any, prompts: Any, responses: Any) -> list[float]:
        one = _one_prompt(prompts)
        if isinstance(responses, str):
            responses = [responses]
        if one:
            prompts = [prompts] * len(responses)
        if len(prompts) != len(responses):
            raise UsageError(f"score takes one prompt per response (or one prompt for all): got {len(prompts)} "
                             f"prompts and {len(responses)} responses")
        return score(self, list(prompts), list(responses))

    wrapper.takes_one = True  # type: ignore[attr-defined]
    return wrapper


class RewardModel(ABC):
    """Scores a response to a prompt; higher means preferred. Scoring is deterministic."""

    kind: ClassVar[str]
    # The dataclass of the kind's settings, so a config's overrides can be checked before training.
    settings_type: ClassVar[type | None] = None
    # Rows of the training curve (see the module docstring); empty for a loaded model.
    curve: list[dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("score")
        if own is not None and not getattr(own, "takes_one", False):
            cls.score = one_or_many(own)  # type: ignore[method-assign]

    @abstractmethod
    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        """One score per (prompt, response); the two sequences have the same length. Users may also
        pass one prompt (a string or a conversation) with one response or a list of responses: every
        kind's `score` is wrapped by `one_or_many`, so each kind only handles the lists."""

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

    @classmethod
    def untrained(cls, kind: str, seed: int = 0, **overrides: Any) -> RewardModel:
        """The model as training would start it (its step 0): what it scores before any label.
        A kind that learns only from its labels scores about 0.5 here; one with a built-in formula
        scores what the formula gives."""
        raise UserError(f"reward model kind {kind!r} has no untrained (step-0) form in rmboost")

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

    def save(self, directory: str | Path, replace: bool = False) -> Path:
        """Write the model into `directory`. With `replace`, it is written beside it first and then
        takes the folder's place, so nothing of what the folder held before is left in it."""
        d = Path(directory)
        target = d.with_name(f".{d.name}.saving") if replace else d
        try:
            if replace and target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True, exist_ok=True)
            self.save_weights(target)
            if getattr(self, "curve", None):
                write_rows(target / CURVE_FILE, self.curve)
            meta = {"kind": self.kind_name(), "settings": self.settings()}
            (target / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            if replace:
                if d.is_dir():
                    shutil.rmtree(d)
                elif d.exists():
                    d.unlink()
                os.replace(target, d)
        except OSError as e:
            raise UserError(f"{d}: cannot save the reward model here: {e.strerror or e}") from e
        return d

    def kind_name(self) -> str:
        return self.kind

    @classmethod
    def check(cls, kind: str) -> None:
        """Refuse a `kind` this class cannot train (an `hf:PATH` that is no checkpoint, ...) cheaply,
        before any data is read or weights loaded. Nothing to check by default."""
        return None

    @staticmethod
    def load(directory: str | Path) -> RewardModel:
        d = Path(directory)
        meta, cls = saved_meta(d)
        try:
            return cls.from_dir(d, meta["settings"])
        except load_errors() as e:
            raise UserError(f"{d}: cannot load this {meta['kind']} reward model: {type(e).__name__}: {e}") from e

    def score_pairs(self, pairs: Sequence[Pair]) -> tuple[list[float], list[float]]:
        """Scores of the chosen and of the rejected response of each pair, in one batch."""
        prompts = [p.prompt for p in pairs]
        both = self.score(prompts + prompts, [p.chosen for p in pairs] + [p.rejected for p in pairs])
        return both[: len(pairs)], both[len(pairs) :]
