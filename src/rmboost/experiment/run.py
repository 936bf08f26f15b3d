"""`rmboost experiment`: the paper's comparison, end to end, from one YAML config.

The data (`dataset.py`) is split by prompt. Training prompts give the methods' prompts and the
Real pairs; test prompts give the human-labelled yardstick. Every method (and every "variant", a
method with options, e.g. RMBoost with length control) makes pairs from the same training prompts;
with `controls: true` on QA-Feedback the human corrections and their flipped copy join them; the
sets are cut to one size (`syn_sets.py`); each reward-model kind is trained on each set, on Real,
and on Real+set, and scored on the test pairs (`training.py`). Results go to the output folder as
`results.json`, `results.md` and `results.png`, with `stats.md`/`stats.png` diagnostics of every
pair set; `finish` is the last step of a run.

Every step is resumable: generation reuses the request cache and finished pairs, and a trained
model whose inputs are unchanged is not trained again, so a rerun or a changed training setting
costs no new LLM call. A long run goes in chunks that outlive their machine (`chunks.py`: an
archive of the pairs, a time budget, a continue from the archive). This module only
orchestrates; each step is a library call.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rmboost.data.qa_feedback import CONTROL_SETS
from rmboost.experiment.agreement_table import agreement_markdown, agreement_section
from rmboost.experiment.calibration import calibration_section
from rmboost.experiment.calibration_sets import UNTRAINED, flip_name, write_calibration_sets
from rmboost.experiment.calibration_tables import calibration_markdown, headline, plot_calibration
from rmboost.experiment.chunks import Chunk, ChunkOptions
from rmboost.experiment.config import ExperimentConfig, load_config
from rmboost.experiment.crossfit import SCORER, crossfit_pairs
from rmboost.experiment.dataset import Prepared, describe, given_prompts, pool_prompts, prepare, write_pairs
from rmboost.experiment.folder_state import check_folder, record
from rmboost.experiment.log import log
from rmboost.experiment.summary import combined, controls_section, differences
from rmboost.experiment.syn_sets import cut_sets, rows_as_written, target_size, variant_options
from rmboost.experiment.tables import (
    controls_markdown,
    data_markdown,
    differences_markdown,
    generation_markdown,
    results_markdown,
)
from rmboost.experiment.training import Trainer
from rmboost.generation.config import GenerateConfig

__all__ = ["Experiment", "ExperimentConfig", "load_config", "run_experiment"]

Job = tuple[str, list[Path], str, int]
PARTIAL_EVERY = 30.0  # seconds between two partial writes of the results files


class Experiment(Trainer):
    def __init__(self, config: ExperimentConfig, output: str | Path, pairs_from: str | Path | None = None,
                 chunk: ChunkOptions | None = None, quiet: bool = False) -> None:
        super().__init__(config, output, quiet)
        options = chunk or ChunkOptions(pairs_from=None if pairs_from is None else Path(pairs_from))
        self.chunk = Chunk(options, self.out)  # what this invocation restores, generates and archives
        self.generation: list[dict[str, Any]] = []  # each method's run summary, as this invocation ran it
        self.data_info: dict[str, Any] = {}
        self.sizes: dict[str, Any] = {}
        self.real_pairs = 0
        self.agreement: dict[str, Any] = {}  # label agreement with humans, for sets over given responses

    # --- data -------------------------------------------------------------------------------
    def prepare_data(self) -> Prepared:
        prepared = prepare(self.config, self.out)
        self.yardsticks, self.data_info, self.real_pairs = prepared.yardsticks, prepared.info, prepared.real_pairs
        return prepared

    def write_controls(self, prepared: Prepared) -> dict[str, Path]:
        """The known-good set and its flipped copy, as full pair files beside the Syn sets."""
        from rmboost.data.qa_corrections import flipped

        if not self.config.controls:
            return {}
        if prepared.corrections is None:
            log(f"controls: not offered for {self.config.data.format} data (only QA-Feedback has corrections)")
            return {}
        if not prepared.corrections:
            log("controls: no training question has a correction; none trained")
            return {}
        good, bad = CONTROL_SETS
        folder = self.out / "pairs"
        return {good: write_pairs(folder / f"{good}.jsonl", prepared.corrections),
                bad: write_pairs(folder / f"{bad}.jsonl", flipped(prepared.corrections))}

    # --- generation -------------------------------------------------------------------------
    def plan(self) -> dict[str, dict[str, Any]]:
        """Every variant's generate options, checked before any generation starts."""
        c, prompts = self.config, int(self.data_info.get("train_prompts", 0))
        return {v.name: variant_options(c, v, prompts, self.real_pairs) for v in c.methods}

    def generate_all(self, prompts: Path, real: Path, plan: dict[str, dict[str, Any]]) -> dict[str, Path]:
        """Every variant's pairs, as this chunk of the run leaves them (`chunks.py`)."""
        c = self.config
        made: dict[str, Path] = {}
        scorer_path: str | None = None
        for v in c.methods:
            options = dict(plan[v.name])
            given = options.pop("given_response", None)
            source = prompts if given is None else given_prompts(self.out, int(given))
            if options.pop("given_responses", False):
                source = pool_prompts(self.out)
            if (v.method == "west-of-n" and options.get("scorer", c.west_of_n_scorer) == "real-rm"
                    and self.chunk.generates):
                if scorer_path is None:
                    # The paper's West-of-N scores with a reward model trained on the real data; it is
                    # the same model as the Real row of the results, so it is trained once.
                    folder = self.model_folder("real", "embed-linear", c.seed)
                    scorer_path = str(self.chunk.scorer(folder, lambda: self.train_and_score("real", [real],
                                                                                             "embed-linear")))
                options["scorer"] = scorer_path
            out = self.out / "pairs" / f"{v.name}.jsonl"
            crossfit = v.method == "west-of-n" and options.get("scorer", c.west_of_n_scorer) == SCORER
            if crossfit and self.chunk.options.pairs_from is None:
                made[v.name] = crossfit_pairs(self, v.name, options, source, real, out)  # no LLM call
                self.chunk.made_without_llm(v.name, source)
                continue
            quiet = {"progress": False} if self.quiet else {}  # a quiet run shows none, whatever the config says
            gen = GenerateConfig(input=str(source), output=str(out), method=v.method,
                                 **{"seed": c.seed, "progress": True, **{k: val for k, val in options.items()
                                                         if k not in ("input", "output", "method")}, **quiet})
            summary = self.chunk.generate(v.name, gen)
            if summary is not None:
                log(f"{v.name}: {summary.pairs_in_output} pairs, {summary.failures} new failures, {summary.calls_sent} "
                    f"calls sent, {summary.cache_hits} from cache, {summary.wall_seconds:.0f}s")
                self.generation.append({"set": v.name, "method": v.method, **asdict(summary),
                                        "per_pair": summary.per_pair(),
                                        "pairs_per_prompt": options.get("pairs_per_prompt", 1)})
            made[v.name] = out
        return made

    def equalise(self, made: dict[str, Path], controls: dict[str, Path] | None = None) -> dict[str, Path]:
        """Cut every set to one size (`syn_sets.cut_sets`); the sizes and notes go to the tables."""
        if not made and not controls:
            log("no Syn set (the config names no method)")
            return {}
        cut = cut_sets({k: rows_as_written(p) for k, p in made.items()},
                       {k: rows_as_written(p) for k, p in (controls or {}).items()},
                       target_size(self.config, self.real_pairs), self.config.seed, self.out / "pairs")
        for note in cut.notes:
            log(note)
        sets = (f"Syn sets cut to {cut.info['syn_pairs']} pairs each" if made
                else "no Syn set (the config names no method)")
        log(sets + (f", controls to {cut.info['control_pairs']} pairs each" if controls else ""))
        self.sizes = cut.info
        return cut.files

    # --- the whole run ----------------------------------------------------------------------
    def jobs(self, syn: dict[str, Path], real: Path, calibration: dict[str, Path]) -> list[Job]:
        """Per kind and seed: Real, the all-flipped Real and the untrained model (the sensitivity,
        which every verdict needs), then the small Syn sets (the paper's comparison), the large
        Real+Syn sets, and the rest of the calibration, so a long run that is stopped early has
        the readable part first, and all of the first seed before any other."""
        c, jobs = self.config, []
        flip_all = flip_name(1.0)
        for kind in c.reward_models:
            for seed in range(c.seed, c.seed + c.rm_seeds):
                if "real" in c.train_sets or calibration:
                    jobs.append(("real", [real], kind, seed))
                if flip_all in calibration:
                    jobs.append((flip_all, [calibration[flip_all]], kind, seed))
                if c.calibration.enabled and c.calibration.untrained:
                    jobs.append((UNTRAINED, [], kind, seed))
                if "syn" in c.train_sets:
                    jobs += [(name, [path], kind, seed) for name, path in syn.items()]
                if "real+syn" in c.train_sets:
                    jobs += [(f"real+{name}", [real, path], kind, seed) for name, path in syn.items()]
                jobs += [(name, [path], kind, seed) for name, path in calibration.items() if name != flip_all]
        return jobs

    def run(self, replace: bool = False) -> dict[str, Any]:
        c = self.config
        start = time.monotonic()
        check_folder(self.out, c, replace)  # before anything in the folder changes
        self.chunk.before_run(c)
        self.out.mkdir(parents=True, exist_ok=True)
        record(self.out, c)
        prepared = self.prepare_data()
        plan = self.plan()
        made = self.generate_all(prepared.prompts, prepared.real, plan)
        if not self.chunk.complete:  # the time budget ran out: what was made is kept, training waits
            return self.chunk.stopped()
        self.agreement = agreement_section(c, self.out, made)
        syn = self.equalise(made, self.write_controls(prepared))
        calibration = self.write_calibration(prepared.real)
        jobs = self.jobs(syn, prepared.real, calibration)
        # The diagnostics need only the pairs: written before any training.
        stats = self.write_stats(syn, prepared.real) if c.stats else []
        last_write = float("-inf")
        for n, job in enumerate(jobs, 1):
            name, files, kind, seed = job
            if name == UNTRAINED:
                self.results.append(self.score_untrained(kind, seed))
            else:
                self.results.append(self.train_and_score(name, files, kind, seed))
            # A long run shows (and keeps) its finished rows as it goes, at most every PARTIAL_EVERY
            # seconds: the tables' bootstraps cost more than a linear model's training.
            if n < len(jobs) and time.monotonic() - last_write >= PARTIAL_EVERY:
                self.write_tables(start, stats=stats, note=f"partial: {n} of {len(jobs)} reward models done")
                last_write = time.monotonic()
        summary = self.write_tables(start, stats)
        self.finish(summary)
        return summary

    def write_calibration(self, real: Path) -> dict[str, Path]:
        """The calibration's training sets (`calibration_sets.py`), beside the Syn sets."""
        from rmboost.rm.train import load_training_pairs

        cal = self.config.calibration
        if not cal.enabled:
            return {}
        files = write_calibration_sets(load_training_pairs([real]), cal, self.config.seed,
                                       self.out / "pairs" / "calibration")
        log(f"calibration: {len(files)} training sets from Real ({', '.join(files)}), no LLM call")
        return files

    def write_tables(self, start: float, stats: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
        c = self.config
        self.calibration = calibration_section(self, c.calibration)
        diffs = differences(self, self.calibration)
        rows = combined(self)
        controls = controls_section(self, diffs, bool(self.data_info.get("has_controls")),
                                    self.sizes.get("control_pairs"))
        summary = {"config": asdict(c), "dataset": self.data_info, "sizes": self.sizes, "results": self.results,
                   "calibration": self.calibration, "agreement": self.agreement,
                   "differences": diffs, "controls": controls,
                   "generation": self.generation, "stats": stats, "wall_seconds": round(time.monotonic() - start, 1)}
        summary["headline"] = headline(summary)
        summary["output"] = str(self.out)
        if c.rm_seeds > 1:
            summary["combined"] = rows
        if note:
            summary["note"] = note
        title = f"{c.name} ({note})" if note else c.name
        (self.out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
        (self.out / "results.md").write_text(
            f"# {title}\n\n**{summary['headline']}**\n\n" + calibration_markdown(self.calibration)
            + results_markdown(rows, list(self.yardsticks)) + data_markdown(describe(self.data_info), self.sizes)
            + agreement_markdown(self.agreement) + controls_markdown(controls) + differences_markdown(diffs)
            + generation_markdown(self.generation))
        return summary

    def write_stats(self, syn: dict[str, Path], real: Path) -> list[dict[str, Any]]:
        from rmboost.experiment.diagnostics import compute_stats
        from rmboost.experiment.plots import plot_stats

        # Stats of the full pair files (their failures files sit beside them), not the cut copies. No
        # reference reward model: it would be the Real model (circular for West-of-N's own scorer);
        # agreement with the human labels is the label-quality measure.
        files = [self.out / "pairs" / f"{k}.jsonl" for k in syn] + [real]
        stats = [compute_stats(f, None, embeddings=self.config.embeddings) for f in files]
        sections = [f"## {Path(s.file).stem}\n\n```\n{s.table()}\n```" for s in stats]
        (self.out / "stats.md").write_text(f"Data: {describe(self.data_info)}.\n\n" + "\n\n".join(sections) + "\n")
        plot_stats(stats, self.out / "stats.png")
        return [s.to_dict() for s in stats]

    def finish(self, summary: dict[str, Any]) -> None:
        """The last step of a finished run: the accuracy chart, the HTML report of the whole
        folder (`report.html`) and the closing log line."""
        from rmboost.experiment.plots import plot_accuracies
        from rmboost.report import write_report

        info = self.data_info
        title = (f"{self.config.name}\n{info.get('format')} {Path(str(info.get('path'))).name}: "
                 f"{info.get('train_prompts')} training prompts, {info.get('real_pairs')} Real pairs, "
                 f"{info.get('test_pairs')} test pairs")
        plot_accuracies(summary.get("combined", self.results), self.out / "results.png", title=title)
        plot_calibration(summary["calibration"], self.out / "calibration.png")
        write_report(self.out, self.out / "report.html")
        log(f"done in {summary['wall_seconds']:.0f}s: {self.out / 'results.md'}, results.png, results.json, "
            "report.html")


def run_experiment(config_path: str | Path, output: str | Path | None = None, quiet: bool = False,
                   replace: bool = False, pairs_from: str | Path | None = None, *,
                   continue_from: str | Path | None = None, archive: str | Path | None = None,
                   generate_for: float | None = None) -> dict[str, Any]:
    """Run the config's comparison; `quiet` turns off the progress of generation and training;
    `replace` deletes the results of another config in the output folder instead of refusing;
    `pairs_from` takes every method's pairs from an archive folder instead of generating them;
    `continue_from` takes what an archive holds and generates the rest; `archive` keeps each
    method's pairs there; `generate_for` (minutes) stops generating then and returns, untrained,
    with `complete: False` (`chunks.py`)."""
    config = load_config(config_path)

    def path(p: str | Path | None) -> Path | None:
        return None if p is None else Path(p)

    chunk = ChunkOptions(path(pairs_from), path(continue_from), path(archive), generate_for)
    return Experiment(config, output or Path("runs") / config.name, chunk=chunk, quiet=quiet).run(replace)
