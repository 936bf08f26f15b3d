"""A long experiment run in chunks that outlive their machine (the request cache and `runs/` do not;
what is committed under `results/` does):

- `--archive-pairs A`: each method's pairs go to A (gzip, with settings, summary and failures), with
  the experiment's settings and `progress.json`, as soon as the method stops, and every
  `TICK_EVERY` seconds while it runs.
- `--continue-from A`: A's pairs are put back into the run's `pairs/` folder (a folder that already
  holds all of them keeps its own), then only the prompts not done are generated; a method A holds
  whole starts no backend. Other settings are refused before anything changes (`pairs_archive.py`).
- `--generate-for M`: M minutes after the start no new prompt is taken; the run archives, prints how
  far it got and how long the rest will take (`progress_estimate.py`) and stops before training.
- `--pairs-from A`: every method's pairs from A, nothing generated (a rerun with no LLM).

Left out: the run's other steps (`run.py`) and the generation itself (`generate_chunk.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rmboost.errors import EarlyStop, UsageError
from rmboost.experiment.config import ExperimentConfig
from rmboost.experiment.folder_state import STATE_FILE
from rmboost.experiment.generate_chunk import Deadline, MethodRun, generate_until
from rmboost.experiment.log import log
from rmboost.experiment.pairs_archive import (
    archive_file,
    archive_folder,
    archive_pairs,
    archived,
    check_archive,
    check_continuable,
    check_no_loss,
    check_same_pairs,
    pair_ids,
    prompts_digest,
    restore_pairs,
)
from rmboost.experiment.progress_estimate import (
    PROGRESS_FILE,
    MethodProgress,
    duration,
    load_progress,
    method_line,
    save_progress,
    total_line,
)
from rmboost.generation.config import GenerateConfig
from rmboost.generation.progress import count_prompts
from rmboost.generation.settings import SettingsRefusal
from rmboost.generation.summary import RunSummary


@dataclass
class ChunkOptions:
    pairs_from: Path | None = None
    continue_from: Path | None = None
    archive: Path | None = None
    generate_for: float | None = None  # minutes

    def check(self) -> None:
        if self.pairs_from is not None and self.continue_from is not None:
            raise UsageError("--pairs-from and --continue-from do not go together: --pairs-from takes every "
                             "method's pairs and generates nothing, --continue-from generates what is not done")
        if self.pairs_from is not None and self.generate_for is not None:
            raise UsageError("--generate-for does not apply to --pairs-from, which generates nothing")
        if self.generate_for is not None and not self.generate_for > 0:
            raise UsageError(f"--generate-for must be more than 0 minutes, got {self.generate_for:g}")
        if self.continue_from is not None:
            check_continuable(self.continue_from)


def _same(a: Path | None, b: Path | None) -> bool:
    return a is not None and b is not None and a.resolve() == b.resolve()


class Chunk:
    """This invocation's part of the run's generation: what it restores, runs, archives and reports."""

    def __init__(self, options: ChunkOptions, out: Path) -> None:
        self.options, self.out = options, out
        self.deadline = Deadline()
        self.names: list[str] = []
        self.progress: dict[str, MethodProgress] = {}
        self.incomplete: list[str] = []

    @property
    def pairs_dir(self) -> Path:
        return self.out / "pairs"

    def before_run(self, config: ExperimentConfig) -> None:
        """Every check that can refuse the run, before anything in the output folder changes."""
        o, self.names = self.options, [v.name for v in config.methods]
        o.check()
        if o.pairs_from is not None:
            check_archive(o.pairs_from, self.names)
        if o.continue_from is not None:
            check_same_pairs(o.continue_from, config)
        sources = [p for p in (o.pairs_from, o.continue_from) if p is not None]
        if o.archive is not None and not any(_same(o.archive, s) for s in sources):
            check_no_loss(o.archive, self.names,
                          lambda name: [archived(s, name) for s in sources] + [self.pairs_dir / f"{name}.jsonl"])
        earlier = load_progress((o.continue_from or self.pairs_dir) / PROGRESS_FILE)
        self.progress = {name: earlier.get(name, MethodProgress()) for name in self.names}
        self.deadline = Deadline(o.generate_for)  # the budget counts from here

    @property
    def complete(self) -> bool:
        return not self.incomplete

    @property
    def generates(self) -> bool:
        """Whether this chunk may still generate (not a --pairs-from rerun, time left)."""
        return self.options.pairs_from is None and not self.deadline.passed()

    def generate(self, name: str, gen: GenerateConfig) -> RunSummary | None:
        """`name`'s pairs as this chunk leaves them in `gen.output`: restored, generated (until the
        deadline), or both; the summary of the generation when one ran."""
        out = Path(gen.output)
        if self.options.pairs_from is not None:
            restore_pairs(self.options.pairs_from, name, out)
            log(f"{name}: pairs from {self.options.pairs_from} (no generation, no LLM call)")
            self.keep(name, with_progress=False)
            return None
        digest = prompts_digest(Path(gen.input))
        if self.options.continue_from is not None:
            if self.progress[name].prompts_digest not in (None, digest):
                raise UsageError(f"{name}: its prompts ({gen.input}) are not the ones the pairs in "
                                 f"{self.options.continue_from} were made from (the data or its split changed); "
                                 "continue with the data that made them, or start a new archive")
            self.restore(self.options.continue_from, name, out)
        entry = self.progress[name]  # after `restore`, which starts the record again for pairs taken out
        entry.prompts_digest = digest
        # Known before the first prompt, so the estimates printed while it runs count what is left.
        entry.prompts_total = count_prompts(gen.input, gen.limit)
        if self.deadline.passed():
            self.not_run(name, gen)
            return None
        try:
            run = generate_until(gen, self.deadline, name=name, skip_done=self.options.continue_from is not None,
                                 tick=lambda before, done, wall: self.look(name, before, done, wall))
        except SettingsRefusal as e:
            raise UsageError(self.refusal(e)) from e
        except BaseException:
            self.keep(name)  # Ctrl-C, a crash: what was made so far is archived all the same
            raise
        self.ended(name, run)
        if run.summary is not None and run.summary.stopped_early:
            raise EarlyStop(f"{name}: {run.summary.stopped_early}", run.summary)
        return run.summary

    def made_without_llm(self, name: str, prompts: Path) -> None:
        """`name`'s pairs were made whole by this run with no LLM call (`crossfit.py`): every prompt done."""
        entry = self.progress[name]
        entry.prompts_digest = prompts_digest(prompts)
        entry.prompts_done = entry.prompts_total = count_prompts(str(prompts), None)
        self.keep(name)

    def scorer(self, folder: Path, train: Callable[[], object]) -> Path:
        """The model West-of-N's pairs are scored with (trained on Real into `folder`), kept with the
        pairs: the archive's copy when it holds one, else `folder` trained and copied into the archive.
        A continue on another machine then scores with the very model the earlier pairs were scored
        with, without training it again (minutes for `embed-linear`); the pairs' settings hold the
        digest of its model files (`generation/settings.folder_digest`, training records left out)."""
        o = self.options
        held = [f / "models" / folder.name for f in (o.continue_from, o.archive) if f is not None]
        kept = next((h for h in held if (h / "eval.json").is_file()), None)
        if kept is None:
            train()
            if o.archive is None:
                return folder
            kept = folder
        if o.archive is None:
            return kept
        archive_folder(kept, o.archive / "models" / folder.name)
        return o.archive / "models" / folder.name

    def restore(self, folder: Path, name: str, out: Path) -> None:
        src = archived(folder, name)
        if not src.is_file():
            # An earlier record of it describes pairs that are not there (taken out to be made again
            # with other settings, say): its counts and rate would describe another run.
            self.progress[name] = MethodProgress()
            log(f"{name}: not in {src.parent}; made from its first prompt")
            return
        if out.is_file():
            missing = pair_ids(src) - pair_ids(out)
            if missing:
                raise UsageError(f"{out} lacks {len(missing)} of the pairs in {src}; continue into a fresh --output")
            log(f"{name}: {out} already holds every pair of {src}")
            return
        restore_pairs(src.parent, name, out)
        log(f"{name}: {len(pair_ids(out))} pairs from {src}; generating the prompts not done")

    def not_run(self, name: str, gen: GenerateConfig) -> None:
        """A method the budget left no time for: its progress as the last run that made its pairs
        counted it, or, with no such record, as its files show it (a prompt counts as done when one of
        its pairs is, so only a prompt cut short by a killed run is counted too soon)."""
        entry = self.progress[name]
        total = count_prompts(gen.input, gen.limit)
        if not entry.chunks:  # no run has counted it
            entry.prompts_done = len({i.split("#", 1)[0] for i in pair_ids(Path(gen.output))})
        entry.prompts_done, entry.prompts_total = min(entry.prompts_done, total), total
        if entry.left:
            self.incomplete.append(name)
        log(f"{name}: no time left in this chunk ({method_line(name, entry)})")
        self.keep(name)

    def look(self, name: str, before: int, done: int, wall: float) -> None:
        """A method under way: its estimate, and its pairs so far kept, as a kill would leave them."""
        entry = self.progress[name]
        entry.prompts_done = done
        entry.record_chunk(done - before, wall)
        log(f"{method_line(name, entry)}; {total_line(self.progress)}")
        self.keep(name)

    def ended(self, name: str, run: MethodRun) -> None:
        entry = self.progress[name]
        entry.prompts_done, entry.prompts_total = run.done, run.total
        if run.summary is not None:
            entry.record_chunk(run.done - run.done_before, run.wall_seconds, run.summary)
        elif run.complete:
            log(f"{name}: every prompt is done in {self.options.continue_from} (no generation, no LLM call)")
        if not run.complete:
            self.incomplete.append(name)
        log(method_line(name, entry))
        self.keep(name)

    def keep(self, name: str, with_progress: bool = True) -> None:
        """`name`'s files (and the run's settings and progress) into the archive, if there is one."""
        if with_progress:
            save_progress(self.pairs_dir / PROGRESS_FILE, self.progress, self.finished(), self.options.generate_for)
        archive = self.options.archive
        if archive is None:
            return
        archive_pairs(self.pairs_dir, [name], archive)
        archive_file(self.out / STATE_FILE, archive)
        if with_progress:
            archive_file(self.pairs_dir / PROGRESS_FILE, archive)

    def finished(self) -> bool:
        return all(p.prompts_total > 0 and not p.left for p in self.progress.values())

    def refusal(self, e: SettingsRefusal) -> str:
        if self.options.continue_from is not None:
            return (f"{e.what}. These pairs came from {self.options.continue_from}: continue with the config that "
                    "made them, or start a new archive (--archive-pairs elsewhere, without --continue-from)")
        # A pair file made by hand or another tool with other settings: `experiment` has no --append
        # (one folder, one config), so the message names what it does have.
        return (f"{e.what}. Give another --output, or rerun with --replace to delete this folder's results and "
                "start afresh")

    def stopped(self) -> dict[str, Any]:
        """What a run that stopped before training returns: how far it got and how long the rest takes."""
        for name, entry in self.progress.items():
            log(method_line(name, entry))
        how_far = ", ".join(f"{n} {p.prompts_done}/{p.prompts_total}" for n, p in self.progress.items())
        line = (f"generation stopped after {duration(self.deadline.elapsed())} (--generate-for "
                f"{self.options.generate_for}): prompts done {how_far}; {total_line(self.progress)}; "
                "no training until every method is done")
        return {"complete": False, "headline": line, "output": str(self.out),
                "archive": None if self.options.archive is None else str(self.options.archive),
                "progress": {n: p.to_dict() for n, p in self.progress.items()}}
