"""The experiment's YAML config: which data, methods (and variants), reward-model kinds, seeds.

`load_config` checks every field, every method's generate options, and that the data files exist,
before anything runs, and names the file and field it refuses: a field that is unknown, of the
wrong type or does not apply is a `UsageError` (exit 2), a config file that cannot be read or a
data file that is missing bad input (3). What a data format offers (its task, yardsticks, given
responses) is its registration's (`data/formats.py`). Running the experiment is `run.py`'s job;
reading the data is `dataset.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from rmboost.data.formats import data_format, named, offering
from rmboost.data.qa_feedback import CONTROL_SETS
from rmboost.errors import UsageError, UserError, about
from rmboost.experiment.calibration_sets import CalibrationConfig, parse_calibration
from rmboost.experiment.config_checks import (
    check_data_files,
    check_generation,
    check_kinds,
    check_scorer,
    check_yardsticks,
)
from rmboost.experiment.yardsticks import offered
from rmboost.generation.config import GenerateConfig
from rmboost.methods import method_class

TASKS = ("qa", "chat", "summarization", "ultrafeedback")
TRAIN_SETS = ("syn", "real", "real+syn")
# What each top-level field must be, checked before any is used: (test, what the error says).
_SHAPES: dict[str, tuple[Any, str]] = {
    "name": (lambda v: isinstance(v, str) and v.strip(), "a non-empty string"),
    "train_prompts": (lambda v: v is None or _count(v), "a whole number >= 1 or null"),
    "test_pairs": (lambda v: v is None or _count(v), "a whole number >= 1 or null"),
    "methods": (lambda v: isinstance(v, list), "a list of method names or mappings"),
    "reward_models": (lambda v: isinstance(v, list) and v and all(isinstance(k, str) for k in v),
                      "a non-empty list of reward-model kinds"),
    "train_sets": (lambda v: isinstance(v, list) and v and all(k in TRAIN_SETS for k in v),
                   f"a non-empty list of {', '.join(TRAIN_SETS)}"),
    "generation": (lambda v: isinstance(v, dict), "a mapping of generate options"),
    "rm_overrides": (lambda v: isinstance(v, dict) and all(isinstance(o, dict) for o in v.values()),
                     "a mapping from reward-model kind to a mapping of options"),
    "west_of_n_scorer": (lambda v: isinstance(v, str), "a string"),
    "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "rm_seeds": (lambda v: _count(v), "a whole number >= 1"),
    "bootstrap": (lambda v: _count(v), "a whole number >= 1"),
    "stats": (lambda v: isinstance(v, bool), "true or false"),
    "embeddings": (lambda v: isinstance(v, bool), "true or false"),
    "controls": (lambda v: isinstance(v, bool), "true or false"),
    "syn_size": (lambda v: v is None or v == "real" or _count(v), "a whole number >= 1 or 'real'"),
    "yardsticks": (lambda v: v is None or (isinstance(v, list) and v and all(isinstance(k, str) for k in v)),
                   "a non-empty list of yardstick names"),
}


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


@dataclass
class Variant:
    """One way of making synthetic pairs: a method plus GenerateConfig options."""

    name: str
    method: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    """The human-labelled data: Real pairs and prompts come from `path`, the test pairs from
    `test_path`, or, without one, from the other side of a split by a hash of the prompt.
    TL;DR only: `path` may be a list of files, a folder or a glob; `train_split` and `test_split`
    (a split, a list of them, or `all`; unset: `train` and `valid2`) choose the comparisons by the
    file's `split` field, and `split_by: post` puts each post on one side by a hash of its id."""

    format: str = "qa-feedback"
    path: str | list[str] = "../shared/data/qa_feedback/dev_feedback.json"
    test_path: str | None = None
    on_error: str = "raise"  # a malformed row: stop with its error, or skip and count it
    # None, not the defaults, so the settings of a folder made before these existed still match.
    train_split: str | list[str] | None = None
    test_split: str | list[str] | None = None
    split_by: str | None = None

    @property
    def file(self) -> str:
        """`path` as one text: the file of every format but tldr (which alone may take a list)."""
        return self.path if isinstance(self.path, str) else ", ".join(self.path)


@dataclass
class ExperimentConfig:
    name: str = "experiment"
    data: DataConfig = field(default_factory=DataConfig)
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
    # Known-good training sets (QA-Feedback's human corrections, and the same pairs flipped): does
    # the yardstick see good data? Only data with corrections has them.
    controls: bool = False
    # Pairs per Syn set: a number, "real" (the Real set's size), or unset (the smallest Syn set).
    syn_size: int | str | None = None
    # Training sets made from Real alone (labels of a share of its questions flipped, a share of its
    # questions kept) and every kind scored untrained: what each reward model can see. No verdict
    # is printed for a (kind, yardstick) the calibration did not find readable.
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    # What the models are scored on (`yardsticks.py`); unset: every yardstick the data offers.
    yardsticks: list[str] | None = None

    @property
    def yardstick_names(self) -> list[str]:
        return list(self.yardsticks or offered(self.data.format))

    @property
    def task(self) -> str:
        """The generation task: the config's, or the one its data format's prompts are written for."""
        return str(self.generation.get("task") or data_format(self.data.format).task or "qa")


def _methods(raw: list[Any], p: Path) -> list[Variant]:
    methods = []
    for i, m in enumerate(raw):
        if isinstance(m, str):
            methods.append(Variant(name=m, method=m))
        elif isinstance(m, dict) and "method" in m:
            m = dict(m)
            methods.append(Variant(name=str(m.pop("name", m["method"])), method=str(m.pop("method")), options=m))
        else:
            raise UsageError(f"{p}: field 'methods[{i}]': a method name or a mapping with 'method'")
    names = [v.name for v in methods]
    clash = sorted({n for n in names if names.count(n) > 1 or n in CONTROL_SETS or n == "real"})
    if clash:
        raise UsageError(f"{p}: field 'methods': names must be unique and not real or a control set: {clash}")
    return methods


def _data(raw: Any, p: Path) -> DataConfig:
    if isinstance(raw, str):  # the old form: a QA-Feedback file
        raw = {"path": raw}
    if not isinstance(raw, dict):
        raise UsageError(f"{p}: field 'data' must be a file name or a mapping with format, path, test_path")
    known = {f.name for f in fields(DataConfig)}
    if set(raw) - known:
        raise UsageError(f"{p}: field 'data' has unknown key(s) {sorted(set(raw) - known)}; known: {sorted(known)}")
    as_given = ("path", "train_split", "test_split")  # may be lists; check_data_files checks them
    data = DataConfig(**{k: v if k in as_given or v is None else str(v)  # type: ignore[arg-type]
                         for k, v in raw.items()})
    if data.format not in named("sides"):
        raise UsageError(f"{p}: field 'data.format': unknown format {data.format!r}; choose one of "
                         f"{', '.join(named('sides'))}")
    if data.on_error not in ("raise", "skip"):
        raise UsageError(f"{p}: field 'data.on_error' must be raise or skip, got {data.on_error!r}")
    check_data_files(data, p)
    return data


def _check_shapes(raw: dict[str, Any], p: Path) -> None:
    for name, value in raw.items():
        test, what = _SHAPES.get(name, (lambda v: True, ""))
        if not test(value):
            raise UsageError(f"{p}: field '{name}' must be {what}, got {value!r}")


def _check(config: ExperimentConfig, p: Path) -> None:
    for v in config.methods:
        with about(f"{p}: field 'methods: {v.name}'"):
            method_class(v.method)
    gen_fields = {f.name for f in fields(GenerateConfig)}
    for where, opts in [("generation", config.generation)] + [(f"methods: {v.name}", v.options)
                                                              for v in config.methods]:
        bad = set(opts) - gen_fields - ({"given_response", "given_responses"} if where != "generation" else set())
        if bad:
            raise UsageError(f"{p}: field '{where}' has unknown generate option(s) {sorted(bad)}")
    for v in config.methods:
        if "given_responses" in v.options:
            _check_given_pool(config, v, p)
        given = v.options.get("given_response")
        if given is None:
            continue
        if v.method != "rmboost" or config.data.format not in offering("given_response"):
            raise UsageError(f"{p}: field 'methods: {v.name}.given_response': only rmboost on "
                             f"{' and '.join(offering('given_response'))} data rewrites the data set's own predictions")
        if given not in (1, 2, 3, 4):
            raise UsageError(f"{p}: field 'methods: {v.name}.given_response' must be 1, 2, 3 or 4 (a prediction)")
    if data_format(config.data.format).task is None and "task" not in config.generation:
        raise UsageError(f"{p}: field 'generation.task': say which task a {config.data.format} file's prompts "
                         f"are for ({', '.join(TASKS)})")
    if config.task not in TASKS:
        raise UsageError(f"{p}: field 'generation.task': unknown task {config.task!r}; choose one of "
                         f"{', '.join(TASKS)}")
    if not config.methods and not config.controls and not config.calibration.enabled and \
            "real" not in config.train_sets:
        raise UsageError(f"{p}: field 'methods': nothing to train on: no method, no controls, no calibration "
                        "and no real in train_sets")
    check_kinds(config.reward_models, config.rm_overrides, p)
    check_yardsticks(config.yardsticks, offered(config.data.format), config.data.format, p)
    if any(v.method == "west-of-n" for v in config.methods):
        check_scorer(config.west_of_n_scorer, "west_of_n_scorer", p)
    for v in config.methods:
        # The config-wide West-of-N scorer is checked with each variant it applies to.
        scorer = {"scorer": config.west_of_n_scorer} if v.method == "west-of-n" and \
            config.west_of_n_scorer == "crossfit" else {}
        check_generation({**config.generation, **scorer, **v.options, "method": v.method, "task": config.task},
                         f"methods: {v.name}", p)


def _check_given_pool(config: ExperimentConfig, v: Variant, p: Path) -> None:
    """`given_responses: true`: the variant works on the data set's own responses (QA-Feedback's four
    predictions, the summaries TL;DR's workers compared: the pool Real's labels are about), so its
    labels can be checked against the humans'."""
    where = f"{p}: field 'methods: {v.name}.given_responses'"
    if v.options["given_responses"] is not True:
        raise UsageError(f"{where} must be true (or left out), got {v.options['given_responses']!r}")
    if config.data.format not in offering("given_responses"):
        raise UsageError(f"{where}: only {' and '.join(offering('given_responses'))} data give every prompt "
                         "several responses with human labels")
    if v.method not in ("rlaif", "west-of-n", "rmboost") or "given_response" in v.options:
        raise UsageError(f"{where}: applies to rlaif, west-of-n and rmboost (without given_response); "
                         f"{v.method} writes its own responses")


def load_config(path: str | Path) -> ExperimentConfig:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, ValueError, yaml.YAMLError) as e:  # ValueError: not UTF-8
        # A YAML error spans several lines (the problem, a caret under it): one line here.
        raise UserError(f"{p}: cannot read experiment config: {' '.join(str(e).split())}") from e
    if not isinstance(raw, dict):
        raise UserError(f"{p}: an experiment config must be a YAML mapping")
    known = {f.name for f in fields(ExperimentConfig)}
    unknown = set(raw) - known
    if unknown:
        raise UsageError(f"{p}: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
    _check_shapes(raw, p)
    methods = _methods(raw.pop("methods", ["rmboost", "rlaif", "west-of-n", "rlcd"]), p)
    data = _data(raw.pop("data", {}), p)
    calibration = parse_calibration(raw.pop("calibration", False), str(p))
    config = ExperimentConfig(**raw, methods=methods, data=data, calibration=calibration)
    _check(config, p)
    return config

