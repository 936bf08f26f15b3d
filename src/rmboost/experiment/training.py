"""Training and scoring the experiment's reward models, each once: a resume key per model, twin reuse,
and each model's per-test-pair outcomes (for seed averages and paired differences).

A model's folder is `models/<train set>--<kind>[--seed<k>]`; its `eval.json` holds the key (a
digest of the training files' bytes, the kind, its overrides, the seed, the bootstrap and the test
file), the result row and the outcomes. A rerun with the same key reuses the row; a set whose
training pairs equal another set's (under other metadata) reuses that model. What to train is the
run's choice (`run.py`); training itself is `rmboost.rm`'s.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from rmboost.experiment.config import ExperimentConfig
from rmboost.experiment.log import log
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
    def __init__(self, config: ExperimentConfig, output: str | Path) -> None:
        self.config = config
        self.out = Path(output)
        # Training shows its steps, loss and validation accuracy unless the run is quiet.
        self.show_progress = bool(config.generation.get("progress", True))
        self.results: list[dict[str, Any]] = []
        self.wins: dict[tuple[str, str, int], list[float]] = {}  # (train set, kind, seed) -> per-test-pair outcomes
        self._test: list[Pair] = []

    def model_folder(self, name: str, kind: str, seed: int) -> Path:
        # The first seed keeps the plain folder name, so runs made before rm_seeds existed resume.
        suffix = "" if seed == self.config.seed else f"--seed{seed}"
        return self.out / "models" / f"{name}--{kind.replace(':', '_').replace('/', '_')}{suffix}"

    def train_and_score(
        self, name: str, files: list[Path], kind: str, test: list[Any], seed: int | None = None
    ) -> dict[str, Any]:
        from rmboost.rm.train import load_training_pairs

        seed = self.config.seed if seed is None else seed
        overrides = self.config.rm_overrides.get(kind, {})
        folder = self.model_folder(name, kind, seed)
        label = f"{name} / {kind}" + ("" if seed == self.config.seed else f"--seed{seed}")
        setting = (kind, overrides, seed, self.config.bootstrap, self.out / "data" / "test_pairs.jsonl")
        key = digest(*files, *setting)
        done = folder / "eval.json"
        if done.exists():
            saved = json.loads(done.read_text())
            if saved.get("key") == key:
                log(f"{label}: unchanged, reusing {done}")
                if "wins" not in saved:  # saved before per-pair outcomes were kept: score again
                    saved["wins"] = self.saved_wins(folder, saved["result"], test)
                    done.write_text(json.dumps(saved, indent=2))
                self.wins[(name, kind, seed)] = saved["wins"]
                return {**saved["result"], "seed": seed}
        train_pairs = load_training_pairs(files)
        # Two sets can hold the same training pairs under different metadata (--verify that
        # contradicts nothing keeps RMBoost's pairs): the model would be the same, so it is reused.
        pairs_key = digest([[p.prompt, p.chosen, p.rejected] for p in train_pairs], *setting)
        twin = self.trained_on_same_pairs(folder, pairs_key)
        if twin is not None:
            other, saved_result = twin
            log(f"{label}: same training pairs as {other}, reusing its model")
            result = {**saved_result, "train_set": name, "same_model_as": other, "seed": seed}
            folder.mkdir(parents=True, exist_ok=True)
            wins = self.saved_wins(folder, result, test)
        else:
            log(f"{label}: training on {len(train_pairs)} pairs")
            result, wins = self.train_new(name, label, train_pairs, kind, seed, folder, test)
        done.write_text(json.dumps({"key": key, "pairs_key": pairs_key, "result": result, "wins": wins}))
        self.wins[(name, kind, seed)] = wins
        return result

    def train_new(self, name: str, label: str, train_pairs: list[Pair], kind: str, seed: int, folder: Path,
                  test: list[Any]) -> tuple[dict[str, Any], list[float]]:
        from rmboost.rm.base import RewardModel
        from rmboost.rm.evaluate import evaluate
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
        report = evaluate(model, test, n_boot=self.config.bootstrap, seed=self.config.seed)
        result = {"train_set": name, "rm": kind, "seed": seed, "train_pairs": len(train_pairs),
                  "seconds": round(time.monotonic() - start, 1), **report.to_dict()}
        log(f"{label}: accuracy {report.accuracy:.3f} [{report.ci_low:.3f}, {report.ci_high:.3f}]")
        return result, report.wins

    def saved_wins(self, folder: Path, result: dict[str, Any], test: list[Any]) -> list[float]:
        """Per-test-pair outcomes of a finished model: its twin's, or from scoring it again."""
        from rmboost.rm.base import RewardModel
        from rmboost.rm.evaluate import evaluate

        if result.get("same_model_as"):
            twin = folder.parent / f"{result['same_model_as']}--{folder.name.split('--', 1)[1]}" / "eval.json"
            return list(json.loads(twin.read_text())["wins"])
        log(f"{result['train_set']} / {result['rm']}: scoring again for its per-pair outcomes")
        return evaluate(RewardModel.load(folder), test, n_boot=1).wins

    def trained_on_same_pairs(self, folder: Path, pairs_key: str) -> tuple[str, dict[str, Any]] | None:
        """(train set, result) of a model of this run, of the same kind, trained on the same pairs."""
        kind_part = folder.name.split("--", 1)[1]
        for path in sorted((self.out / "models").glob(f"*--{kind_part}/eval.json")):
            if path.parent == folder:
                continue
            saved = json.loads(path.read_text())
            if saved.get("pairs_key") == pairs_key and "same_model_as" not in saved["result"]:
                return str(saved["result"]["train_set"]), dict(saved["result"])
        return None

    def mean_wins(self, name: str, kind: str) -> list[float] | None:
        """Each test pair's outcome averaged over the seeds this set and kind were trained with."""
        runs = [w for (n, k, _), w in self.wins.items() if (n, k) == (name, kind)]
        return [sum(col) / len(runs) for col in zip(*runs, strict=True)] if runs else None
