"""Training and scoring the experiment's reward models, each once: a resume key per model, twin reuse,
and each model's per-test-pair outcomes (for seed averages and paired differences).

A model's folder is `models/<train set>--<kind>[--seed<k>]`; its `eval.json` holds the key (a
digest of the training files' bytes, the kind, its overrides, the seed, the bootstrap and the
yardsticks' files), the result row (the primary yardstick's numbers at the top, every yardstick's
under `yardsticks`) and the outcomes per yardstick. The untrained (step-0) model of a kind is
scored the same way, as the set `untrained`. A rerun with the same key reuses the row; a set whose
training pairs equal another set's (under other metadata) reuses that model. What to train is the
run's choice (`run.py`); training itself is `rmboost.rm`'s.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from rmboost.errors import UserError
from rmboost.experiment.calibration_sets import UNTRAINED
from rmboost.experiment.config import ExperimentConfig
from rmboost.experiment.log import log
from rmboost.experiment.yardsticks import TEST_PAIRS, score_all
from rmboost.measure.interval_text import interval_text
from rmboost.progress_display import TrainingProgress
from rmboost.records import Pair


def digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            h.update(part.read_bytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


class Trainer:
    def __init__(self, config: ExperimentConfig, output: str | Path, quiet: bool = False) -> None:
        self.config = config
        self.out = Path(output)
        # Training shows its steps, loss and validation accuracy unless the run is quiet (or the
        # config's generation options turn progress off).
        self.quiet = quiet
        self.show_progress = not quiet and bool(config.generation.get("progress", True))
        self.results: list[dict[str, Any]] = []
        # (train set, kind, seed) -> yardstick -> per-pair outcomes
        self.wins: dict[tuple[str, str, int], dict[str, list[float]]] = {}
        self.yardsticks: dict[str, list[Pair]] = {}  # the first is the primary one (the main tables)
        self.calibration: dict[str, Any] = {}  # what each (kind, yardstick) can see (`calibration.py`)

    @property
    def _test(self) -> list[Pair]:
        return next(iter(self.yardsticks.values()), [])

    @property
    def primary(self) -> str:
        return next(iter(self.yardsticks), "")

    def yardstick_file(self, name: str) -> Path:
        return self.out / "data" / ("test_pairs.jsonl" if name in TEST_PAIRS else f"test_{name}.jsonl")

    def model_folder(self, name: str, kind: str, seed: int) -> Path:
        # The first seed keeps the plain folder name, so runs made before rm_seeds existed resume.
        suffix = "" if seed == self.config.seed else f"--seed{seed}"
        return self.out / "models" / f"{name}--{kind.replace(':', '_').replace('/', '_')}{suffix}"

    def setting(self, kind: str, seed: int) -> tuple[Any, ...]:
        return (kind, self.config.rm_overrides.get(kind, {}), seed, self.config.bootstrap,
                *[self.yardstick_file(n) for n in self.yardsticks], list(self.yardsticks))

    def reuse(self, folder: Path, key: str, label: str, name: str, kind: str, seed: int) -> dict[str, Any] | None:
        done = folder / "eval.json"
        if not done.exists():
            return None
        saved = json.loads(done.read_text())
        if saved.get("key") != key:
            return None
        if not isinstance(saved.get("wins"), dict):
            return self.rescore(folder, saved, label, name, kind, seed)
        log(f"{label}: unchanged, reusing {done}")
        self.wins[(name, kind, seed)] = saved["wins"]
        return {**saved["result"], "seed": seed}

    def rescore(self, folder: Path, saved: dict[str, Any], label: str, name: str, kind: str,
                seed: int) -> dict[str, Any] | None:
        """A model saved before per-pair outcomes were kept: scored again, not trained again; its
        result keeps the training's own time. None when its folder holds no model to load."""
        from rmboost.rm.base import RewardModel

        old = saved.get("result") or {}
        try:
            model = RewardModel.load(folder)
        except UserError:  # no loadable model there (`RewardModel.load`'s one-line error): trained again
            return None
        log(f"{label}: saved without per-pair outcomes, scoring it again")
        result, wins = self.scored(name, model, kind, seed, int(old.get("train_pairs", 0)), time.monotonic())
        result["seconds"] = old.get("seconds", result["seconds"])
        saved.update(result=result, wins=wins)
        (folder / "eval.json").write_text(json.dumps(saved))
        self.wins[(name, kind, seed)] = wins
        return {**result, "seed": seed}

    def train_and_score(self, name: str, files: list[Path], kind: str, seed: int | None = None) -> dict[str, Any]:
        from rmboost.rm.train import load_training_pairs

        seed = self.config.seed if seed is None else seed
        folder = self.model_folder(name, kind, seed)
        label = f"{name} / {kind}" + ("" if seed == self.config.seed else f"--seed{seed}")
        setting = self.setting(kind, seed)
        key = digest(*files, *setting)
        reused = self.reuse(folder, key, label, name, kind, seed)
        if reused is not None:
            return reused
        train_pairs = load_training_pairs(files)
        # Two sets can hold the same training pairs under different metadata (--verify that
        # contradicts nothing keeps RMBoost's pairs): the model would be the same, so it is reused.
        pairs_key = digest([[p.prompt, p.chosen, p.rejected] for p in train_pairs], *setting)
        twin = self.trained_on_same_pairs(folder, pairs_key)
        if twin is not None:
            other, saved_result, wins = twin
            log(f"{label}: same training pairs as {other}, reusing its model")
            result = {**saved_result, "train_set": name, "same_model_as": other, "seed": seed}
            folder.mkdir(parents=True, exist_ok=True)
        else:
            log(f"{label}: training on {len(train_pairs)} pairs")
            result, wins = self.train_new(name, label, train_pairs, kind, seed, folder)
        (folder / "eval.json").write_text(json.dumps({"key": key, "pairs_key": pairs_key, "result": result,
                                                      "wins": wins}))
        self.wins[(name, kind, seed)] = wins
        return result

    def score_untrained(self, kind: str, seed: int) -> dict[str, Any]:
        """The kind as its training starts (step 0), scored on every yardstick: row `untrained`."""
        from rmboost.rm.train import untrained_reward_model

        folder = self.model_folder(UNTRAINED, kind, seed)
        label = f"{UNTRAINED} / {kind}" + ("" if seed == self.config.seed else f"--seed{seed}")
        key = digest(*self.setting(kind, seed))
        reused = self.reuse(folder, key, label, UNTRAINED, kind, seed)
        if reused is not None:
            return reused
        start = time.monotonic()
        model = untrained_reward_model(kind, seed, **self.config.rm_overrides.get(kind, {}))
        result, wins = self.scored(UNTRAINED, model, kind, seed, 0, start)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "eval.json").write_text(json.dumps({"key": key, "result": result, "wins": wins}))
        self.wins[(UNTRAINED, kind, seed)] = wins
        log(f"{label}: accuracy {result['accuracy']:.3f} before any training")
        return result

    def scored(self, name: str, model: Any, kind: str, seed: int, train_pairs: int,
               start: float) -> tuple[dict[str, Any], dict[str, list[float]]]:
        rows, wins = score_all(model, self.yardsticks, self.config.bootstrap, self.config.seed)
        primary = rows[self.primary]
        result = {"train_set": name, "rm": kind, "seed": seed, "train_pairs": train_pairs,
                  "seconds": round(time.monotonic() - start, 1), **primary, "yardsticks": rows}
        return result, wins

    def train_new(self, name: str, label: str, train_pairs: list[Pair], kind: str, seed: int,
                  folder: Path) -> tuple[dict[str, Any], dict[str, list[float]]]:
        from rmboost.rm.base import RewardModel
        from rmboost.rm.train import train_reward_model

        start = time.monotonic()
        progress = TrainingProgress(f"train {kind}", enabled=self.show_progress)
        try:
            model = train_reward_model(train_pairs, kind, seed, on_progress=progress,
                                       **self.config.rm_overrides.get(kind, {}))
        finally:
            progress.close()
        model.save(folder)
        model = RewardModel.load(folder)
        result, wins = self.scored(name, model, kind, seed, len(train_pairs), start)
        log(f"{label}: accuracy {interval_text(result['accuracy'], result['ci_low'], result['ci_high'])}")
        return result, wins

    def trained_on_same_pairs(self, folder: Path,
                              pairs_key: str) -> tuple[str, dict[str, Any], dict[str, list[float]]] | None:
        """(train set, result, outcomes) of a model of this run, of the same kind, trained on the same pairs."""
        kind_part = folder.name.split("--", 1)[1]
        for path in sorted((self.out / "models").glob(f"*--{kind_part}/eval.json")):
            if path.parent == folder:
                continue
            saved = json.loads(path.read_text())
            if saved.get("pairs_key") == pairs_key and "same_model_as" not in saved["result"]:
                return str(saved["result"]["train_set"]), dict(saved["result"]), dict(saved["wins"])
        return None

    def mean_wins(self, name: str, kind: str, yardstick: str | None = None) -> list[float] | None:
        """Each test pair's outcome on `yardstick` (the primary one by default), averaged over the
        seeds this set and kind were trained with."""
        yardstick = yardstick or self.primary
        runs = [w[yardstick] for (n, k, _), w in self.wins.items() if (n, k) == (name, kind) and yardstick in w]
        return [sum(col) / len(runs) for col in zip(*runs, strict=True)] if runs else None

    def seed_wins(self, name: str, kind: str, yardstick: str) -> list[list[float]]:
        """Per seed (in seed order), the outcomes of this set and kind on `yardstick`."""
        keys = sorted(k for k in self.wins if k[:2] == (name, kind))
        return [self.wins[k][yardstick] for k in keys if yardstick in self.wins[k]]
