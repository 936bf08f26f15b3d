"""What a run costs in money: prices per million tokens from `--price-in`/`--price-out`, or from a
YAML price table (`--prices FILE`: model name -> {in: USD, out: USD}), applied to the tokens of the
calls actually sent. A call answered from the request cache costs nothing. The projection scales the
money spent so far by the prompts still to do.

Left out: counting tokens (`llm.LLM.billed`) and showing the money (`progress.py`, `summary.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from rmboost.errors import UsageError, UserError

PER = 1_000_000


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million prompt (`input`) and completion (`output`) tokens."""

    input: float
    output: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / PER


def _price(value: object, where: str, error: type[UserError] = UserError) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise error(f"{where}: must be a price in USD per million tokens (a number >= 0), got {value!r}")
    return float(value)


def load_price_table(path: str | Path) -> dict[str, Prices]:
    """`{model: Prices}` from a YAML mapping of model name -> {in: USD, out: USD}."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{p}: cannot read price table: {getattr(e, 'strerror', None) or e}") from e
    except yaml.YAMLError as e:
        raise UserError(f"{p}: price table is not valid YAML: {str(e).splitlines()[0]}") from e
    if not isinstance(raw, dict) or not raw:
        raise UserError(f"{p}: a price table must be a YAML mapping of model name -> {{in: USD, out: USD}}")
    table = {}
    for model, entry in raw.items():
        where = f"{p}: field '{model}'"
        if not isinstance(entry, dict) or set(entry) - {"in", "out"} or not entry:
            raise UserError(f"{where}: must be a mapping with 'in' and/or 'out' (USD per million tokens)")
        table[str(model)] = Prices(_price(entry.get("in", 0), f"{where}.in"),
                                   _price(entry.get("out", 0), f"{where}.out"))
    return table


def resolve_prices(price_in: float | None, price_out: float | None, table_file: str | None,
                   model: str) -> Prices | None:
    """The prices for `model`, or None when none were given."""
    if table_file:
        table = load_price_table(table_file)
        if model not in table:
            raise UsageError(f"{table_file}: no price for model {model!r}; it lists {', '.join(sorted(table))}")
        return table[model]
    if price_in is None and price_out is None:
        return None
    return Prices(_price(price_in or 0.0, "--price-in", UsageError),
                  _price(price_out or 0.0, "--price-out", UsageError))


def projected_total(spent: float, processed: int, remaining: int) -> float | None:
    """The money the whole run will have cost: what was spent on `processed` prompts, plus as much
    again per prompt for the `remaining` ones. None before any prompt is done."""
    if processed <= 0:
        return None
    return spent + spent / processed * max(remaining, 0)
