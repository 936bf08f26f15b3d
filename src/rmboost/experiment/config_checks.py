"""Checks of an experiment config that need more than its shape: every reward-model kind and its
overrides, the yardsticks, the West-of-N scorer folder, and every method's generate options
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
    if value not in ("real-rm", "llm"):
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
    try:
        backend_class(str(options.get("backend", "llamacpp")))
        settings = {k: v for k, v in options.items() if k not in ("given_response", "given_responses")}
        if settings.get("scorer") == "real-rm":
            settings["scorer"] = "llm"  # the real-rm scorer is trained by the run itself
        build_method(GenerateConfig(input="-", output="-", **settings))
    except UserError as e:
        error = UserError(f"{p}: field '{where}': {e}")
        error.exit_code = e.exit_code
        raise error from e
    except (TypeError, ValueError) as e:
        raise UsageError(f"{p}: field '{where}': {e}") from e

