"""West-of-N with a cross-fitted scorer (`scorer: crossfit` on a `given_responses` West-of-N variant).

West-of-N picks the best and the worst of a prompt's responses by a reward model. Trained on Real,
that model has seen the very human labels the label-agreement table checks West-of-N's pairs against,
and the same labels Real+West-of-N trains on again. Cross-fitting removes that: the training prompts
are put in two halves by a hash of their id (`half_of`, the rule of results/west-of-n-crossfit/), a
`features` model is trained on each half's Real pairs (`crossfit-half0`, `crossfit-half1`, models
like any other of the run), and each half's responses are scored by the model of the other half.
No scorer sees a label of the prompts it scores.

Scoring given responses makes no LLM call and takes seconds, so the pairs are made again on every
run (they are the same: the `features` fit is deterministic) and kept with the others in the archive;
`--pairs-from` restores them like any method's. Left out: sampled responses (the LLM's own samples
would need the chunked generation; `config_checks` refuses `crossfit` without `given_responses`).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from rmboost.generation.config import GenerateConfig
from rmboost.io.rows import iter_rows, write_rows

SCORER = "crossfit"
KIND = "features"


def half_of(prompt_id: str) -> int:
    return int(hashlib.sha256(prompt_id.encode()).hexdigest(), 16) % 2


def split_rows(path: Path, key: str, folder: Path, stem: str) -> list[Path]:
    """`path`'s rows in two files by `half_of(row[key])` (a missing key counts as half 0)."""
    halves: list[list[Any]] = [[], []]
    for _, row in iter_rows(path):
        if isinstance(row, dict):
            halves[half_of(str(row.get(key, "")))].append(row)
    files = [folder / f"{stem}.half{h}.jsonl" for h in (0, 1)]
    for rows, file in zip(halves, files, strict=True):
        write_rows(file, rows)
    return files


def crossfit_pairs(runner: Any, name: str, options: dict[str, Any], source: Path, real: Path, out: Path) -> Path:
    """`name`'s West-of-N pairs over `source` (prompt records with `responses`) into `out`, each half
    scored by the model trained on the other half's Real pairs. `runner` is the experiment's
    `Runner` (it trains and keeps the two models); returns `out`."""
    from rmboost.generation.run import run_local

    work = runner.out / "data" / "crossfit"
    prompts = split_rows(source, "id", work, f"{name}.prompts")
    reals = split_rows(real, "question_id", work, "real")
    seed = runner.config.seed
    made = []
    for h in (0, 1):
        runner.train_and_score(f"crossfit-half{1 - h}", [reals[1 - h]], KIND)
        scorer = runner.model_folder(f"crossfit-half{1 - h}", KIND, seed)
        output = work / f"{name}.half{h}.pairs.jsonl"
        gen = GenerateConfig(**{**options, "input": str(prompts[h]), "output": str(output), "method": "west-of-n",
                                "scorer": str(scorer), "seed": seed, "progress": False})
        asyncio.run(run_local(gen))
        made += [row for _, row in iter_rows(gen.output) if isinstance(row, dict)]
    # One file in the prompts' order, as one uninterrupted run over `source` would write it.
    order = {str(row.get("id")): i for i, (_, row) in enumerate(iter_rows(source)) if isinstance(row, dict)}
    made.sort(key=lambda r: order.get(str(r.get("id", "")).split("#", 1)[0], len(order)))
    write_rows(out, made)
    return out
