"""The experiment's YAML config: which prompts, methods (and variants), reward-model kinds, seeds.

`load_config` checks every field, and every method's generate options, before anything runs, and
names the file and field it refuses. Running the experiment is `experiment.py`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from rmboost.errors import UserError
from rmboost.generation.config import GenerateConfig


@dataclass
class Variant:
    """One way of making synthetic pairs: a method plus GenerateConfig options."""

    name: str
    method: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExperimentConfig:
    name: str = "experiment"
    data: str = "../shared/data/qa_feedback/dev_feedback.json"
    train_prompts: int | None = 40
    test_pairs: int | None = None
    methods: list[Variant] = field(default_factory=list)
    reward_models: list[str] = field(default_factory=lambda: ["embed-linear"])
    train_sets: list[str] = field(default_factory=lambda: ["syn", "real", "real+syn"])
    generation: dict[str, Any] = field(default_factory=dict)
    rm_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    west_of_n_scorer: str = "real-rm"
    seed: int = 0
    # Trainings per (train set, reward model), with seeds seed, seed+1, ...: a reward model's
    # accuracy moves with its training seed, so the tables average each test pair's outcome over
    # the trainings and show the spread of their accuracies.
    rm_seeds: int = 1
    bootstrap: int = 1000
    stats: bool = True
    embeddings: bool = True


def load_config(path: str | Path) -> ExperimentConfig:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise UserError(f"{p}: cannot read experiment config: {e}") from e
    if not isinstance(raw, dict):
        raise UserError(f"{p}: an experiment config must be a YAML mapping")
    known = {f.name for f in fields(ExperimentConfig)}
    unknown = set(raw) - known
    if unknown:
        raise UserError(f"{p}: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
    methods = []
    for i, m in enumerate(raw.pop("methods", ["rmboost", "rlaif", "west-of-n", "rlcd"])):
        if isinstance(m, str):
            methods.append(Variant(name=m, method=m))
        elif isinstance(m, dict) and "method" in m:
            m = dict(m)
            methods.append(Variant(name=str(m.pop("name", m["method"])), method=str(m.pop("method")), options=m))
        else:
            raise UserError(f"{p}: field 'methods[{i}]': a method name or a mapping with 'method'")
    config = ExperimentConfig(**raw, methods=methods)
    if not isinstance(config.rm_seeds, int) or config.rm_seeds < 1:
        raise UserError(f"{p}: field 'rm_seeds' must be a whole number >= 1, got {config.rm_seeds!r}")
    gen_fields = {f.name for f in fields(GenerateConfig)}
    for where, opts in [("generation", config.generation)] + [(f"methods: {v.name}", v.options) for v in methods]:
        bad = set(opts) - gen_fields
        if bad:
            raise UserError(f"{p}: field '{where}' has unknown generate option(s) {sorted(bad)}")
    return config
