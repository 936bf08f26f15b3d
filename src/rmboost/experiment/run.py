"""`rmboost experiment`: the paper's comparison, end to end, from one YAML config.

QA-Feedback is split by question. Training questions give the prompts and the Real pairs; test
questions give the human-labelled yardstick. Every method (and every "variant", a method with
options, e.g. RMBoost with length control) makes pairs from the same training prompts; the Syn sets
are cut to one size; each reward-model kind is trained on each Syn set, on Real, and on Real+Syn,
and scored on the test pairs. Results go to the output folder as `results.json`, `results.md` and
`results.png`, with `stats.md`/`stats.png` diagnostics of every pair set.

Every step is resumable: generation reuses the request cache and finished pairs, and a trained
model whose inputs are unchanged is not trained again, so a rerun or a changed training setting
costs no new LLM call. This module only orchestrates; each step is a library call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rmboost.errors import EarlyStop, UserError
from rmboost.experiment.config import ExperimentConfig, load_config
from rmboost.experiment.tables import differences_markdown, generation_markdown, results_markdown
from rmboost.generation.config import GenerateConfig
from rmboost.generation.run import run_local
from rmboost.io.rows import write_rows


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            h.update(part.read_bytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def _write_pairs(path: Path, pairs: list[Any]) -> Path:
    write_rows(path, [p.to_dict() if hasattr(p, "to_dict") else p for p in pairs])
    return path


class Experiment:
    def __init__(self, config: ExperimentConfig, output: str | Path) -> None:
        self.config = config
        self.out = Path(output)
        self.results: list[dict[str, Any]] = []
        self.generation: list[dict[str, Any]] = []  # each method's run summary, as this invocation ran it
        self.wins: dict[tuple[str, str, int], list[float]] = {}  # (train set, kind, seed) -> per-test-pair outcomes

    # --- data -------------------------------------------------------------------------------
    def prepare_data(self) -> tuple[Path, Path, list[Any]]:
        from rmboost.data.qa_feedback import load_questions, pairs, prompt_records

        c = self.config
        train_q = sorted(load_questions(c.data, "train"), key=lambda q: q.id)
        if c.train_prompts is not None:
            train_q = train_q[: c.train_prompts]
        test = pairs(load_questions(c.data, "test"))
        if c.test_pairs is not None and len(test) > c.test_pairs:
            test = sorted(random.Random(c.seed).sample(test, c.test_pairs), key=lambda p: p.id)
        prompts = self.out / "data" / "train_prompts.jsonl"
        _write_pairs(prompts, prompt_records(train_q))
        real = _write_pairs(self.out / "data" / "real_train.jsonl", pairs(train_q))
        _write_pairs(self.out / "data" / "test_pairs.jsonl", test)
        log(f"data: {len(train_q)} training questions, {sum(1 for _ in real.open())} Real pairs, "
            f"{len(test)} test pairs")
        return prompts, real, test

    # --- reward models ----------------------------------------------------------------------
    def train_and_score(
        self, name: str, files: list[Path], kind: str, test: list[Any], seed: int | None = None
    ) -> dict[str, Any]:
        from rmboost.rm.base import RewardModel
        from rmboost.rm.evaluate import evaluate
        from rmboost.rm.train import load_training_pairs, train_reward_model

        seed = self.config.seed if seed is None else seed
        overrides = self.config.rm_overrides.get(kind, {})
        # The first seed keeps the plain folder name, so runs made before rm_seeds existed resume.
        suffix = "" if seed == self.config.seed else f"--seed{seed}"
        folder = self.out / "models" / f"{name}--{kind.replace(':', '_').replace('/', '_')}{suffix}"
        setting = (kind, overrides, seed, self.config.bootstrap, self.out / "data" / "test_pairs.jsonl")
        key = _digest(*files, *setting)
        done = folder / "eval.json"
        if done.exists():
            saved = json.loads(done.read_text())
            if saved.get("key") == key:
                log(f"{name} / {kind}{suffix}: unchanged, reusing {done}")
                if "wins" not in saved:  # saved before per-pair outcomes were kept: score again
                    saved["wins"] = self.saved_wins(folder, saved["result"], test)
                    done.write_text(json.dumps(saved, indent=2))
                self.wins[(name, kind, seed)] = saved["wins"]
                return {**saved["result"], "seed": seed}
        train_pairs = load_training_pairs(files)
        # Two sets can hold the same training pairs under different metadata (--verify that
        # contradicts nothing keeps RMBoost's pairs): the model would be the same, so it is reused.
        pairs_key = _digest([[p.prompt, p.chosen, p.rejected] for p in train_pairs], *setting)
        twin = self.trained_on_same_pairs(folder, pairs_key)
        if twin is not None:
            other, saved_result = twin
            log(f"{name} / {kind}{suffix}: same training pairs as {other}, reusing its model")
            result = {**saved_result, "train_set": name, "same_model_as": other, "seed": seed}
            folder.mkdir(parents=True, exist_ok=True)
            wins = self.saved_wins(folder, result, test)
            done.write_text(json.dumps({"key": key, "pairs_key": pairs_key, "result": result, "wins": wins}))
            self.wins[(name, kind, seed)] = wins
            return result
        log(f"{name} / {kind}{suffix}: training on {len(train_pairs)} pairs")
        start = time.monotonic()
        model = train_reward_model(train_pairs, kind, seed, **overrides)
        model.save(folder)
        model = RewardModel.load(folder)
        report = evaluate(model, test, n_boot=self.config.bootstrap, seed=self.config.seed)
        result = {"train_set": name, "rm": kind, "seed": seed, "train_pairs": len(train_pairs),
                  "seconds": round(time.monotonic() - start, 1), **report.to_dict()}
        done.write_text(json.dumps({"key": key, "pairs_key": pairs_key, "result": result, "wins": report.wins}))
        self.wins[(name, kind, seed)] = report.wins
        log(f"{name} / {kind}{suffix}: accuracy {report.accuracy:.3f} [{report.ci_low:.3f}, {report.ci_high:.3f}]")
        return result

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

    # --- generation -------------------------------------------------------------------------
    def generate_all(self, prompts: Path, real: Path) -> dict[str, Path]:
        c = self.config
        made: dict[str, Path] = {}
        scorer_path: str | None = None
        for v in c.methods:
            options = {**c.generation, **v.options}
            if v.method == "west-of-n" and options.get("scorer", c.west_of_n_scorer) == "real-rm":
                if scorer_path is None:
                    # The paper's West-of-N scores with a reward model trained on the real data; it is
                    # the same model as the Real row of the results, so it is trained once.
                    self.train_and_score("real", [real], "embed-linear", self._test)
                    scorer_path = str(self.out / "models" / "real--embed-linear")
                options["scorer"] = scorer_path
            out = self.out / "pairs" / f"{v.name}.jsonl"
            log(f"generating with {v.name} ({v.method}) -> {out}")
            gen = GenerateConfig(input=str(prompts), output=str(out), method=v.method,
                                 **{"seed": c.seed, "progress": True, **{k: val for k, val in options.items()
                                                         if k not in ("input", "output", "method")}})
            summary = asyncio.run(run_local(gen))
            if summary.stopped_early:
                raise EarlyStop(f"{v.name}: {summary.stopped_early}", summary)
            log(f"{v.name}: {summary.pairs_in_output} pairs, {summary.failures} new failures, "
                f"{summary.calls_sent} calls sent, {summary.cache_hits} from cache, {summary.wall_seconds:.0f}s")
            self.generation.append({"set": v.name, "method": v.method, **asdict(summary),
                                    "per_pair": summary.per_pair()})
            made[v.name] = out
        return made

    def equalise(self, made: dict[str, Path]) -> dict[str, Path]:
        """Cut every Syn set to the size of the smallest, by a seeded sample."""
        rows = {k: [json.loads(line) for line in p.open(encoding="utf-8") if line.strip()] for k, p in made.items()}
        usable = {k: r for k, r in rows.items() if r}
        for k in set(rows) - set(usable):
            log(f"{k}: made no pairs; left out of training")
        if not usable:
            raise UserError("no method made any pair; see the failures files under pairs/")
        size = min(len(r) for r in usable.values())
        log(f"Syn sets cut to {size} pairs each")
        out = {}
        for k, r in usable.items():
            # Sampled from the rows in id order, not file order (which is the order prompts finished
            # in), so a rerun, or another set holding the same pairs, picks the same ones.
            by_id = sorted(r, key=lambda row: str(row["id"]))
            picked = sorted(random.Random(self.config.seed).sample(by_id, size), key=lambda row: str(row["id"]))
            out[k] = _write_pairs(self.out / "pairs" / f"{k}.syn{size}.jsonl", picked)
        return out

    # --- the whole run ----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        c = self.config
        start = time.monotonic()
        self.out.mkdir(parents=True, exist_ok=True)
        prompts, real, self._test = self.prepare_data()
        syn = self.equalise(self.generate_all(prompts, real))
        jobs: list[tuple[str, list[Path], str, int]] = []
        # Per kind and seed: Real, then the small Syn sets (the paper's comparison), then the large
        # Real+Syn sets, so a long run that is stopped early has the whole Syn comparison, and all
        # of the first seed before any other.
        for kind in c.reward_models:
            for seed in range(c.seed, c.seed + c.rm_seeds):
                if "real" in c.train_sets:
                    jobs.append(("real", [real], kind, seed))
                if "syn" in c.train_sets:
                    jobs += [(name, [path], kind, seed) for name, path in syn.items()]
                if "real+syn" in c.train_sets:
                    jobs += [(f"real+{name}", [real, path], kind, seed) for name, path in syn.items()]
        # The diagnostics need only the pairs and the reference model (Real / embed-linear), so a
        # long run writes them as soon as that model is trained, not after hours of other training.
        stats: list[dict[str, Any]] | None = None if c.stats else []
        reference = ("real", [real], "embed-linear", c.seed)
        if stats is None and reference not in jobs:
            stats = self.write_stats(syn, real)
        for n, job in enumerate(jobs, 1):
            name, files, kind, seed = job
            self.results.append(self.train_and_score(name, files, kind, self._test, seed))
            if stats is None and job == reference:
                stats = self.write_stats(syn, real)
            if n < len(jobs):  # a long run shows (and keeps) every finished row as it goes
                self.write_tables(start, stats=stats or [], note=f"partial: {n} of {len(jobs)} reward models done")
        summary = self.write_tables(start, stats or [])
        from rmboost.experiment.plots import plot_accuracies

        plot_accuracies(summary.get("combined", self.results), self.out / "results.png", title=c.name)
        log(f"done in {summary['wall_seconds']:.0f}s: {self.out / 'results.md'}, results.png, results.json")
        return summary

    def mean_wins(self, name: str, kind: str) -> list[float] | None:
        """Each test pair's outcome averaged over the seeds this set and kind were trained with."""
        runs = [w for (n, k, _), w in self.wins.items() if (n, k) == (name, kind)]
        return [sum(col) / len(runs) for col in zip(*runs, strict=True)] if runs else None

    def combined(self) -> list[dict[str, Any]]:
        """One row per (train set, kind). With one seed it is the model's own row; with several,
        the accuracy of the seed-averaged outcomes (the mean of the seeds' accuracies) with its
        interval, and each seed's accuracy in `seed_accuracies`."""
        from rmboost.rm.evaluate import outcome_accuracy

        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in self.results:
            groups.setdefault((r["train_set"], r["rm"]), []).append(r)
        rows = []
        for (name, kind), runs in groups.items():
            if len(runs) == 1:
                rows.append(runs[0])
                continue
            wins = self.mean_wins(name, kind)
            assert wins is not None
            a = outcome_accuracy(wins, self._test, self.config.bootstrap, self.config.seed)
            keep = ("train_set", "rm", "train_pairs", "baselines", "same_model_as")
            row: dict[str, Any] = {key: runs[0][key] for key in keep if key in runs[0]}
            row.update(accuracy=a.accuracy, ci_low=a.ci_low, ci_high=a.ci_high, n=a.n,
                       seeds=[r["seed"] for r in runs], seed_accuracies=[r["accuracy"] for r in runs])
            rows.append(row)
        return rows

    def differences(self) -> list[dict[str, Any]]:
        """Paired accuracy differences on the test pairs, per reward-model kind: the first method
        against every other Syn set, and every Real+Syn set against Real, on seed-averaged outcomes."""
        from rmboost.rm.evaluate import paired_difference

        c = self.config
        names = [v.name for v in c.methods]
        wanted = [(names[0], other) for other in names[1:]] + [(f"real+{n}", "real") for n in names]
        rows = []
        for kind in c.reward_models:
            for a, b in wanted:
                wins_a, wins_b = self.mean_wins(a, kind), self.mean_wins(b, kind)
                if wins_a is not None and wins_b is not None:
                    d = paired_difference(wins_a, wins_b, self._test, c.bootstrap, c.seed)
                    rows.append({"a": a, "b": b, "rm": kind, "difference": d.accuracy, "ci_low": d.ci_low,
                                 "ci_high": d.ci_high, "n": d.n})
        return rows

    def write_tables(self, start: float, stats: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
        c = self.config
        differences = self.differences()
        combined = self.combined()
        summary = {"config": asdict(c), "results": self.results, "differences": differences,
                   "generation": self.generation, "stats": stats, "wall_seconds": round(time.monotonic() - start, 1)}
        if c.rm_seeds > 1:
            summary["combined"] = combined
        if note:
            summary["note"] = note
        title = f"{c.name} ({note})" if note else c.name
        (self.out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
        (self.out / "results.md").write_text(results_markdown(combined, title) + differences_markdown(differences)
                                             + generation_markdown(self.generation))
        return summary

    def reference_ready(self) -> bool:
        """Whether the reference model of the diagnostics (Real / embed-linear) is trained."""
        return (self.out / "models" / "real--embed-linear" / "rmboost_rm.json").exists()

    def write_stats(self, syn: dict[str, Path], real: Path) -> list[dict[str, Any]]:
        from rmboost.experiment.diagnostics import compute_stats
        from rmboost.experiment.plots import plot_stats

        ref = self.out / "models" / "real--embed-linear" if self.reference_ready() else None
        # Stats of the full pair files (their failures files sit beside them), not the cut copies.
        files = [self.out / "pairs" / f"{k}.jsonl" for k in syn] + [real]
        stats = [compute_stats(f, ref, embeddings=self.config.embeddings) for f in files]
        sections = [f"## {Path(s.file).stem}\n\n```\n{s.table()}\n```" for s in stats]
        (self.out / "stats.md").write_text("\n\n".join(sections) + "\n")
        plot_stats(stats, self.out / "stats.png")
        return [s.to_dict() for s in stats]


def run_experiment(config_path: str | Path, output: str | Path | None = None) -> dict[str, Any]:
    config = load_config(config_path)
    return Experiment(config, output or Path("runs") / config.name).run()
