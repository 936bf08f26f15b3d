"""The Syn sets' sizes: how many pairs per prompt a variant is asked for (`syn_size`), and the cut of
every set, the controls included, to one size, with a note for any set that came out short.

`syn_size` is a number, `real` (the Real set's size) or unset (the smallest set). To reach it each
variant asks `pairs_per_prompt = ceil(syn_size / training prompts)` unless its options set one.
The method sets are cut to one size: `syn_size`, or the smallest method set if one fell short (the
tables say so). The controls are cut to that size too; they cannot grow (one pair per training
question with a correction), so when they hold fewer they are kept whole and the tables say so.
Cuts are seeded samples of the rows in id order, not file order (the order prompts finished in),
so a rerun, or another set holding the same pairs, picks the same ones. Generation is `run.py`'s.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rmboost.errors import UserError
from rmboost.experiment.config import ExperimentConfig, Variant
from rmboost.experiment.dataset import write_pairs
from rmboost.io.rows import read_rows


def target_size(config: ExperimentConfig, real_pairs: int) -> int | None:
    if config.syn_size is None:
        return None
    return real_pairs if config.syn_size == "real" else int(config.syn_size)


def variant_options(config: ExperimentConfig, variant: Variant, prompts: int, real_pairs: int) -> dict[str, Any]:
    """The GenerateConfig options of one variant: the config's generation options, the variant's,
    the config's task, and the pairs per prompt `syn_size` needs (none for RLAIF and West-of-N over
    given responses, whose pool fixes their pairs)."""
    options = {**config.generation, **variant.options}
    options.setdefault("task", config.task)
    target = target_size(config, real_pairs)
    # RLAIF and West-of-N over given responses make as many pairs as the pool holds: no K to set.
    fixed = variant.method in ("rlaif", "west-of-n") and bool(variant.options.get("given_responses"))
    if target is not None and "pairs_per_prompt" not in options and prompts and not fixed:
        per_prompt = math.ceil(target / prompts)
        if per_prompt > 1:
            options["pairs_per_prompt"] = per_prompt
    return options


def rows_as_written(path: Path) -> list[dict[str, Any]]:
    """Every row of a made set's pair file, each column as written (what a cut copies); the pairs
    in it are read by `data.trl_pairs.parse_row` where they are trained on or measured."""
    return [row for _, row in read_rows(path)]


def prompts_used(rows: list[dict[str, Any]]) -> int:
    """Distinct prompts behind a set's pairs (`<id>#<k>` is the k-th pair of prompt `<id>`)."""
    return len({str(r["id"]).split("#", 1)[0] for r in rows})


@dataclass
class Cut:
    files: dict[str, Path] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _sample(rows: list[dict[str, Any]], size: int, seed: int) -> list[dict[str, Any]]:
    by_id = sorted(rows, key=lambda row: str(row["id"]))
    return sorted(random.Random(seed).sample(by_id, size), key=lambda row: str(row["id"]))


def cut_sets(made: dict[str, list[dict[str, Any]]], controls: dict[str, list[dict[str, Any]]],
             target: int | None, seed: int, folder: Path) -> Cut:
    """Cut the method sets `made` and the control sets to one size (see the module docstring)."""
    cut = Cut()
    usable = {k: r for k, r in made.items() if r}
    for k in set(made) - set(usable):
        cut.notes.append(f"{k} made no pairs; it is left out of training")
    if made and not usable:
        raise UserError(f"no method made any pair; see the failures files under {folder}")
    everything = [len(r) for r in [*usable.values(), *controls.values()]]
    if not everything:
        raise UserError("nothing to train on: the config names no method and no controls")
    size = target if target is not None else min(everything)
    if usable:
        smallest = min(usable, key=lambda k: len(usable[k]))
        if len(usable[smallest]) < size:
            cut.notes.append(f"syn_size asks for {size} pairs, but {smallest} made only {len(usable[smallest])}: "
                             f"every Syn set is cut to {len(usable[smallest])}")
            size = len(usable[smallest])
    control_size = min([size, *[len(r) for r in controls.values()]])
    if controls and control_size < size:
        cut.notes.append(f"the controls hold {control_size} pairs (one per training question with a correction), "
                         f"fewer than the Syn sets' {size}: they are kept whole")
    for k, rows in {**usable, **controls}.items():
        n = control_size if k in controls else size
        cut.files[k] = write_pairs(folder / f"{k}.syn{n}.jsonl", _sample(rows, n, seed))
    cut.info = {"syn_size": target, "syn_pairs": size if usable else None,
                "control_pairs": control_size if controls else None,
                "sets": {k: {"made": len(r), "prompts": prompts_used(r) if r else 0,
                             "kept": (control_size if k in controls else size) if r else 0}
                         for k, r in {**made, **controls}.items()},
                "notes": cut.notes}
    return cut
