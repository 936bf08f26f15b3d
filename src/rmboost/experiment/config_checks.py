"""Checks of an experiment config that need more than its shape: the data files (and TL;DR's files,
splits and split rule), every reward-model kind and its overrides, the yardsticks, the West-of-N
scorer folder, and every method's generate options
(their types, the backend's name, the method's template and aspects), all before anything is
read, written or generated, so a typo costs seconds, not the generation before it.

Each check raises a one-line `UserError` (exit 2, or 3 for a missing file) naming the config
file and field. What the fields mean is `config.py`'s; the checks only refuse.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from rmboost.errors import InputError, UsageError, UserError
from rmboost.rm.base import saved_meta
from rmboost.rm.train import check_kind


def _field(check: Any, field: str, p: Path) -> Any:
    """`check()`, its one-line refusal prefixed with the config file and field, exit code kept."""
    try:
        return check()
    except UserError as e:
        error = UserError(f"{p}: field '{field}': {e}")
        error.exit_code = e.exit_code
        raise error from e


def check_data_files(data: Any, p: Path) -> None:
    """The `data` section's files exist; only tldr data takes several files and chooses its splits
    (`data/tldr.py`: a split, a list, or all; `split_by: post`). A config whose sides would share a
    post (one split on both sides, not split by post) is refused."""
    from rmboost.data.tldr import TEST_SPLIT, TRAIN_SPLIT, comparison_files, split_names

    if data.format != "tldr":
        for name in ("train_split", "test_split", "split_by"):
            if getattr(data, name) is not None:
                raise UsageError(f"{p}: field 'data.{name}' applies to tldr data only, not {data.format}")
        if not isinstance(data.path, str):
            raise UsageError(f"{p}: field 'data.path' must be one file for {data.format} data (only tldr takes a list)")
        for name in ("path", "test_path"):
            value = getattr(data, name)
            if (name == "path" or value is not None) and not Path(str(value)).is_file():
                raise UserError(f"{p}: field 'data.{name}': no such file {value}")
        return
    if not (isinstance(data.path, str) or (isinstance(data.path, list) and data.path
                                           and all(isinstance(f, str) for f in data.path))):
        raise UsageError(f"{p}: field 'data.path' must be a file, folder or glob, or a list of them, got {data.path!r}")
    files: dict[str, list[Path]] = {}
    for name in ("path", "test_path"):
        if getattr(data, name) is not None:
            files[name] = _field(lambda n=name: comparison_files(getattr(data, n)), f"data.{name}", p)
    for name, found in files.items():
        for f in found:
            if not f.is_file():
                raise UserError(f"{p}: field 'data.{name}': no such file {f}")
    both = {f.resolve() for f in files["path"]} & {f.resolve() for f in files.get("test_path", [])}
    if both:
        raise UsageError(f"{p}: field 'data.test_path': {sorted(both)[0]} is also in data.path; give the test "
                         "file only once (data.test_split and data.split_by choose its test side)")
    train = _field(lambda: split_names(data.train_split, TRAIN_SPLIT), "data.train_split", p)
    test = _field(lambda: split_names(data.test_split, TEST_SPLIT), "data.test_split", p)
    if data.split_by not in (None, "post"):
        raise UsageError(f"{p}: field 'data.split_by' must be post (a hash of the post id) or left out, "
                         f"got {data.split_by!r}")
    shared = [s for s in train if s in test]
    if shared and data.split_by is None and data.test_path is None:
        raise UsageError(f"{p}: field 'data.test_split': {', '.join(shared)} is also a training split, so its "
                         "posts would be on both sides; set data.split_by: post, or choose other splits")


_TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict", type(None): "None"}


def check_kinds(kinds: list[str], overrides: dict[str, dict[str, Any]], p: Path) -> None:
    from rmboost.rm.base import KINDS

    seen: set[str] = set()
    for kind in kinds:
        base, _, path = kind.partition(":")
        if base not in KINDS or (base == "hf") != bool(path):
            raise UsageError(f"{p}: field 'reward_models': unknown reward model kind {kind!r}; choose one of "
                             f"{', '.join(k for k in KINDS if k != 'hf')} or hf:PATH")
        if kind in seen:
            raise UsageError(f"{p}: field 'reward_models': {kind!r} is listed twice")
        seen.add(kind)
        _in_field(check_kind, kind, "reward_models", p)  # an hf:PATH folder must be a checkpoint
    for kind, options in overrides.items():
        if kind not in kinds:
            raise UsageError(f"{p}: field 'rm_overrides.{kind}': {kind!r} is not in reward_models, so it would "
                             "be ignored")
        names = setting_names(kind)
        unknown = sorted(set(options) - names - {"validation_fraction"}) if names else []
        if unknown:
            raise UsageError(f"{p}: field 'rm_overrides.{kind}': {kind} has no setting {', '.join(unknown)}; "
                             f"it has {', '.join(sorted(names))}")


def setting_names(kind: str) -> set[str]:
    """The settings a kind's overrides may set (empty when the kind does not declare them)."""
    from rmboost.rm.base import kind_class

    settings = getattr(kind_class(kind), "settings_type", None)
    return {f.name for f in dataclasses.fields(settings)} if settings else set()


def check_yardsticks(names: list[str] | None, offered: tuple[str, ...], data_format: str, p: Path) -> None:
    if names is None:
        return
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise UsageError(f"{p}: field 'yardsticks' must be a non-empty list of {', '.join(offered)}")
    for n in names:
        if n not in offered:
            raise UsageError(f"{p}: field 'yardsticks': {data_format} data offers {', '.join(offered)}, not {n!r}")
    if len(set(names)) != len(names):
        raise UsageError(f"{p}: field 'yardsticks' lists a yardstick twice")


def check_scorer(value: str, field: str, p: Path) -> None:
    if value not in ("real-rm", "llm", "crossfit"):
        _in_field(lambda v: saved_meta(Path(v)), value, field, p)


def _in_field(check: Any, value: str, field: str, p: Path) -> None:
    """`check(value)`, its one-line refusal prefixed with the config file and field."""
    try:
        check(value)
    except UserError as e:
        raise InputError(str(p), 0, field, str(e)) from e


def _type_names(annotation: Any) -> set[str]:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    return {part.strip().split("[")[0] for part in str(text).split("|")}


def check_types(cls: type, options: dict[str, Any], where: str, p: Path) -> None:
    """Every option's value has a type its dataclass field allows (an int where a float is wanted is fine)."""
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    for name, value in options.items():
        if name not in hints:
            continue
        allowed = _type_names(hints[name])
        got = _TYPE_NAMES.get(type(value), type(value).__name__)
        if got in allowed or (got == "int" and "float" in allowed):
            continue
        raise UsageError(f"{p}: field '{where}.{name}' must be {' or '.join(sorted(allowed))}, got {value!r}")


def check_generation(options: dict[str, Any], where: str, p: Path) -> None:
    """The options of one variant: their types, the backend's name, and the method built with them
    (its template, aspects and option combinations), without starting any backend."""
    from rmboost.backends import backend_class
    from rmboost.generation.config import GenerateConfig
    from rmboost.generation.run import build_method

    check_types(GenerateConfig, options, where, p)
    if "scorer" in options:
        check_scorer(str(options["scorer"]), f"{where}.scorer", p)
    crossfit_ok = options.get("given_responses") and options.get("method") == "west-of-n"
    if options.get("scorer") == "crossfit" and not crossfit_ok:
        raise UsageError(f"{p}: field '{where}.scorer': crossfit scores the data set's own responses with models "
                         "trained on the other half's Real pairs: it needs method west-of-n with given_responses: true")
    try:
        backend_class(str(options.get("backend", "llamacpp")))
        settings = {k: v for k, v in options.items() if k not in ("given_response", "given_responses")}
        if settings.get("scorer") in ("real-rm", "crossfit"):
            settings["scorer"] = "llm"  # these scorers are trained by the run itself
        build_method(GenerateConfig(input="-", output="-", **settings))
    except UserError as e:
        error = UserError(f"{p}: field '{where}': {e}")
        error.exit_code = e.exit_code
        raise error from e
    except (TypeError, ValueError) as e:
        raise UsageError(f"{p}: field '{where}': {e}") from e

