"""Prompt templates as data: one YAML file per method under `resources/templates/`, replaceable
with `--template FILE`. Rendering is `str.format_map`, so a template names its fields in braces
and the values (which may hold braces of their own) are never re-parsed."""

from __future__ import annotations

import string
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rmboost.errors import UserError


def load_template(method: str, path: str | Path | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    if path is None:
        text = resources.files("rmboost.resources").joinpath(f"templates/{method}.yaml").read_text("utf-8")
        where = f"built-in template {method}.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
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
    return data


def render(template: str, **values: Any) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    unknown = fields - values.keys()
    if unknown:
        raise UserError(f"template uses unknown field(s) {sorted(unknown)}; known: {sorted(values)}")
    return template.format_map(values)
