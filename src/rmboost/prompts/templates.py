"""Prompt templates as data: one YAML file per method under `resources/templates/` (and named
variants, `<method>_<name>.yaml`, chosen with `--template NAME`), replaceable with `--template
FILE`. Rendering is `str.format_map`, so a template names its fields in braces and the values
(which may hold braces of their own) are never re-parsed."""

from __future__ import annotations

import string
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rmboost.errors import UserError


def builtin_variants(method: str) -> list[str]:
    """Names of the built-in template variants of a method (`templates/<method>_<name>.yaml`)."""
    folder = resources.files("rmboost.resources").joinpath("templates")
    prefix = method.replace("-", "_") + "_"
    return sorted(f.name[len(prefix):-5] for f in folder.iterdir() if f.name.startswith(prefix)
                  and f.name.endswith(".yaml"))


def load_template(method: str, path: str | Path | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A method's template: the built-in one, a built-in variant by name (`--template paper`), or
    a YAML file. The result carries `_source`, the name to use in error messages."""
    stem = method.replace("-", "_")
    name = str(path) if path is not None else ""
    if path is None or (name.isidentifier() and not Path(name).exists()):
        variant = f"{stem}_{name}" if name else stem
        if name and name not in builtin_variants(method):
            known = ", ".join(builtin_variants(method)) or "none"
            raise UserError(f"--template {name}: no such file, and no built-in {method} template of that name "
                            f"(built-in: {known})")
        text = resources.files("rmboost.resources").joinpath(f"templates/{variant}.yaml").read_text("utf-8")
        where = f"built-in template {variant}.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"{path}: cannot read template file: {e}") from e
        where = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise UserError(f"{where}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise UserError(f"{where}: a template file must be a YAML mapping")
    missing = [k for k in required if k not in data]
    if missing:
        raise UserError(f"{where}: missing template field(s): {', '.join(missing)}")
    if path is not None and where == str(path):
        check_like_builtin(data, method, where)
    return {**data, "_source": where}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    for kind, name in ((str, "text"), (dict, "mapping"), (list, "list")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _like(value: Any, ref: Any, where: str, name: str) -> None:
    """`value` must be of `ref`'s kind, recursively; a text must be a valid format string."""
    if ref is None or (value is None and "_params." in name):  # a sampling parameter may be unset
        return
    if _kind(value) != _kind(ref):
        raise UserError(f"{where}: field '{name}' must be {_kind(ref)} (as in the built-in template), "
                        f"got {_kind(value)}")
    if isinstance(value, str):
        try:
            list(string.Formatter().parse(value))
        except ValueError as e:
            raise UserError(f"{where}: field '{name}' is not a valid template ({e}); write a literal brace "
                            "as {{ or }}") from e
    elif isinstance(value, list) and ref:
        for i, item in enumerate(value):
            _like(item, ref[0], where, f"{name}[{i}]")
    elif isinstance(value, dict) and ref:
        kinds = {_kind(v) for v in ref.values()}
        fallback = next(iter(ref.values())) if len(kinds) == 1 else None
        for key, item in value.items():
            if name.endswith("_params") and key not in ref:  # sampling: only what the built-in sets
                raise UserError(f"{where}: field '{name}.{key}' is not a sampling parameter here; "
                                f"it takes {', '.join(ref)}")
            _like(item, ref.get(key, fallback), where, f"{name}.{key}")


def check_like_builtin(data: dict[str, Any], method: str, where: str) -> None:
    """A template file must use the built-in template's fields, each of the same kind (text, list,
    mapping, number): anything else would be ignored, or fail deep inside a run."""
    stem = method.replace("-", "_")
    folder = resources.files("rmboost.resources").joinpath("templates")
    names = [stem, *(f"{stem}_{v}" for v in builtin_variants(method))]
    builtins = [yaml.safe_load(folder.joinpath(f"{name}.yaml").read_text("utf-8")) for name in names]
    known = {k for b in builtins for k in b}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise UserError(f"{where}: unknown template field(s) {unknown}; a {method} template has "
                        f"{', '.join(sorted(known))}")
    for key, value in data.items():
        _like(value, next((b[key] for b in builtins if key in b), None), where, str(key))


def render(template: str, **values: Any) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    unknown = fields - values.keys()
    if unknown:
        raise UserError(f"template uses unknown field(s) {sorted(unknown)}; known: {sorted(values)}")
    return template.format_map(values)
