"""Checks of an experiment config that need more than its shape: the data files (a format that
chooses its own sides checks its section itself, `data/formats.py`), every reward-model kind and its
overrides, the yardsticks, the West-of-N scorer folder, and every method's generate options (their
types, the backend's name, the method's template and aspects), all before anything is read, written
or generated, so a typo costs seconds, not the generation before it.

Each check raises a one-line error naming the config file and field: a field that is unknown, of the
wrong type or does not apply is a `UsageError` (exit 2), a missing or unreadable file bad input (3).
A rule that the commands share is not written again here: a kind's name and settings are
`rm/base.py`'s, a format's data section its registration's, a method's options `generation/`'s; this
module calls them inside `errors.about` (the file and field first, the exit code kept). What the
fields mean is `config.py`'s; the checks only refuse.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from rmboost.data.formats import data_format, named
from rmboost.errors import UsageError, UserError, about
from rmboost.rm.base import check_overrides, saved_meta
from rmboost.rm.train import check_kind


def check_data_files(data: Any, p: Path) -> None:
    """The `data` section's files exist. Only a format with its own section check (TL;DR: several
    files, chosen splits, `split_by`) takes a list of files and the split fields; it checks them."""
    check_section = data_format(data.format).check_section
    if check_section is not None:
        with about(str(p)):
            check_section(data)
        return
    choosers = " and ".join(named("check_section"))
    for name in ("train_split", "test_split", "split_by"):
        if getattr(data, name) is not None:
            raise UsageError(f"{p}: field 'data.{name}' applies to {choosers} data only, not {data.format}")
    if not isinstance(data.path, str):
        raise UsageError(f"{p}: field 'data.path' must be one file for {data.format} data (only {choosers} takes "
                         "a list)")
    for name in ("path", "test_path"):
        value = getattr(data, name)
        if (name == "path" or value is not None) and not Path(str(value)).is_file():
            raise UserError(f"{p}: field 'data.{name}': no such file {value}")


_TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict", type(None): "None"}


def check_kinds(kinds: list[str], overrides: dict[str, dict[str, Any]], p: Path) -> None:
    """Each kind is known (`rm/base.kind_class`), listed once, and an `hf:PATH` folder a checkpoint;
    each override is of a kind listed and one of its settings (`rm/base.check_overrides`)."""
    seen: set[str] = set()
    for kind in kinds:
        if kind in seen:
            raise UsageError(f"{p}: field 'reward_models': {kind!r} is listed twice")
        seen.add(kind)
        with about(f"{p}: field 'reward_models'"):
            check_kind(kind)  # the kind's name, and an hf:PATH folder must be a checkpoint
    for kind, options in overrides.items():
        if kind not in kinds:
            raise UsageError(f"{p}: field 'rm_overrides.{kind}': {kind!r} is not in reward_models, so it would "
                             "be ignored")
        with about(f"{p}: field 'rm_overrides.{kind}'"):
            check_overrides(kind, options, as_flags=False)


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
        with about(f"{p}: field '{field}'"):
            saved_meta(Path(value))


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
        with about(f"{p}: field '{where}'"):
            backend_class(str(options.get("backend", "llamacpp")))
            settings = {k: v for k, v in options.items() if k not in ("given_response", "given_responses")}
            if settings.get("scorer") in ("real-rm", "crossfit"):
                settings["scorer"] = "llm"  # these scorers are trained by the run itself
            build_method(GenerateConfig(input="-", output="-", **settings))
    except (TypeError, ValueError) as e:
        raise UsageError(f"{p}: field '{where}': {e}") from e

