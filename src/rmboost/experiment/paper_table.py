"""The paper's table (RMBoost's comparison of training sets) across experiment folders, as this
project measures it: one row per training set (Real, each Syn set, Real+each, the controls), and
per folder one column per readable (reward-model kind, yardstick) holding the accuracy averaged over
seeds with its 95% CI, then the verdicts the folder's `results.json` holds for that row against
Real and against the RMBoost set, and a column of label agreement with the humans.

It reads what an experiment wrote and recomputes nothing: accuracies, intervals, differences and
verdicts are read from `results.json` (a difference stored as B - A is shown as A - B with its
sign and interval flipped, which is arithmetic, not a new measurement). A real+X row is compared
with real+<the RMBoost set>, the mixture of the same size, not with the RMBoost set alone. What a
verdict needs (the calibration's gate, the smallest readable difference) is `calibration.py`'s and
`summary.py`'s; training and scoring are `training.py`'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rmboost.errors import UsageError, UserError
from rmboost.measure.interval_text import interval_text

CONTROLS = ("real-flip100", "untrained")
NUMBER = (int, float)
NAME_OR_NULL = (str, type(None))
KINDS = {str: "a string", dict: "an object", list: "a list", bool: "true or false", NUMBER: "a number",
         NAME_OR_NULL: "a set's name or null"}
TOP = {"config": dict, "dataset": dict, "sizes": dict, "calibration": dict, "differences": list}
# The fields of each list of rows that the table reads, and their JSON types.
METHOD = {"name": str, "method": str}
ROW = {"train_set": str, "rm": str, "yardsticks": dict}
ACCURACY = {"accuracy": NUMBER, "ci_low": NUMBER, "ci_high": NUMBER}
CALIBRATION = {"rm": str, "yardstick": str, "readable": bool, "sensitivity": NUMBER, "sensitivity_ci": list,
               "mdd": NUMBER}
DIFFERENCE = {"a": str, "b": str, "rm": str, "yardstick": str, "difference": NUMBER, "ci_low": NUMBER,
              "ci_high": NUMBER, "verdict": str, "winner": NAME_OR_NULL,
              "readable": bool}
# An agreement row's measure: its labels against the humans', or (RMBoost over a prediction humans
# corrected) whether each rewrite moved the way its label says.
MEASURES = {m: {m: NUMBER, f"{m}_low": NUMBER, f"{m}_high": NUMBER, f"{m}_n": NUMBER} for m in ("labels", "direction")}
LEGEND = ("Cells: accuracy averaged over seeds [95% CI]; vs X: this row minus X on the same test pairs "
          "[95% CI], better or worse as the folder's results.json says (only where the calibration reads the "
          "reward model and the difference clears its smallest readable difference), else no difference.")


def _unique(items: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _need(value: Any, kind: Any, where: str, source: str) -> Any:
    """`value`, if it has the JSON type `kind`; else one line naming the file and the key."""
    if not isinstance(value, kind) or (kind is NUMBER and isinstance(value, bool)):
        raise UserError(f"{source}: {where} is {json.dumps(value)[:40]}, not {KINDS[kind]}")
    return value


def _fields(row: Any, shape: dict[str, Any], where: str, source: str) -> None:
    _need(row, dict, where or "the file", source)
    for key, kind in shape.items():
        if key not in row:
            raise UserError(f"{source}: {where + ' ' if where else ''}has no key '{key}'")
        _need(row[key], kind, f"{where}.{key}" if where else key, source)


def _rows(rows: Any, shape: dict[str, Any], where: str, source: str) -> list[dict[str, Any]]:
    for i, row in enumerate(_need(rows, list, where, source)):
        _fields(row, shape, f"{where}[{i}]", source)
    return list(rows)


def _check(results: Any, source: str) -> None:
    """Every field the table reads, so that a broken file is one line naming the file and the key."""
    _fields(results, TOP, "", source)
    if "combined" not in results and "results" not in results:
        raise UserError(f"{source}: has no key 'combined' (nor 'results')")
    _rows(results["config"].get("methods", []), METHOD, "config.methods", source)
    where = "combined" if "combined" in results else "results"
    for i, row in enumerate(_rows(results[where], ROW, where, source)):
        for y, acc in row["yardsticks"].items():
            if not isinstance(acc, dict) or acc.get("accuracy") is not None:
                _fields(acc, ACCURACY, f"{where}[{i}].yardsticks.{y}", source)
    for i, row in enumerate(_rows(results["calibration"].get("rows", []), CALIBRATION, "calibration.rows", source)):
        _fields(dict(zip(("low", "high"), row["sensitivity_ci"], strict=False)), {"low": NUMBER, "high": NUMBER},
                f"calibration.rows[{i}].sensitivity_ci", source)
    if any(isinstance(r, dict) and "verdict" in r and "winner" not in r for r in results["differences"]):
        raise UserError(f"{source}: its differences have no 'winner' (written before rmboost stored it): "
                        "rerun the experiment with --pairs-from to rewrite it, no LLM call")
    for i, row in enumerate(_rows(results["differences"], DIFFERENCE, "differences", source)):
        if row["winner"] not in (None, row["a"], row["b"]):
            raise UserError(f"{source}: differences[{i}].winner is {json.dumps(row['winner'])[:40]}, "
                            f"neither '{row['a']}' nor '{row['b']}' nor null")
    agreement = _need(results.get("agreement") or {}, dict, "agreement", source)
    for i, row in enumerate(_rows(agreement.get("rows", []), {"set": str}, "agreement.rows", source)):
        for measure, shape in MEASURES.items():
            if measure in row:
                _fields(row, shape, f"agreement.rows[{i}]", source)


@dataclass
class Folder:
    """One experiment folder's results.json, with the look-ups the table makes."""

    label: str
    source: str
    results: dict[str, Any]

    @classmethod
    def from_results(cls, label: str, results: Any, source: str = "results.json") -> Folder:
        _check(results, source)
        return cls(label, source, results)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """`combined` (averaged over seeds) is written when rm_seeds > 1; with one seed, `results` is it."""
        return list(self.results["combined" if "combined" in self.results else "results"])

    @property
    def syn_sets(self) -> list[str]:
        return [m["name"] for m in self.results["config"]["methods"]]

    @property
    def rmboost_set(self) -> str | None:
        return next((m["name"] for m in self.results["config"]["methods"] if m["method"] == "rmboost"), None)

    def sets(self) -> set[str]:
        return {r["train_set"] for r in self.rows} | {r["set"] for r in self.agreement_rows()}

    def pairs(self) -> list[tuple[str, str]]:
        """(kind, yardstick) of every accuracy the folder holds, kind by kind."""
        held = _unique((r["rm"], y) for r in self.rows for y in r["yardsticks"])
        return sorted(held, key=lambda p: [k for k, _ in held].index(p[0]))

    def calibration(self, kind: str, yardstick: str) -> dict[str, Any] | None:
        rows = self.results["calibration"].get("rows", [])
        return next((r for r in rows if (r["rm"], r["yardstick"]) == (kind, yardstick)), None)

    def accuracy(self, train_set: str, kind: str, yardstick: str) -> dict[str, Any] | None:
        row = next((r for r in self.rows if (r["train_set"], r["rm"]) == (train_set, kind)), None)
        acc = row["yardsticks"].get(yardstick) if row else None
        return acc if acc and acc.get("accuracy") is not None else None

    def difference(self, this: str, other: str, kind: str, yardstick: str) -> tuple[dict[str, Any], bool] | None:
        """The stored row of `this` against `other`, and whether it is stored the other way (B - A)."""
        for row in self.results["differences"]:
            if (row["rm"], row["yardstick"]) == (kind, yardstick) and {row["a"], row["b"]} == {this, other}:
                return row, row["a"] != this
        return None

    def agreement_rows(self) -> list[dict[str, Any]]:
        return list((self.results.get("agreement") or {}).get("rows", []))


def load_folder(path: str | Path) -> Folder:
    """A folder `rmboost experiment` wrote (or its results.json), labelled with the folder's name."""
    p = Path(path)
    file = p / "results.json" if p.is_dir() else p
    if p.is_dir() and not file.is_file():
        raise UserError(f"{p}: no results.json (not an experiment output folder, or its run is unfinished)")
    if not file.is_file():
        raise UserError(f"{p}: no such folder or file (give an experiment output folder or its results.json)")
    try:
        results = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise UserError(f"{file}: not JSON ({e.msg} at line {e.lineno})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{file}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    return Folder.from_results(file.resolve().parent.name, results, str(file))


def yardsticks_of(folders: list[Folder], wanted: list[str] | None) -> list[str]:
    """The yardsticks to show: `wanted`, each held by some folder, or every one they hold."""
    held = _unique(y for f in folders for _, y in f.pairs())
    for name in wanted or []:
        if name not in held:
            raise UsageError(f"--yardstick {name}: no folder has it; they have: {', '.join(held) or 'none'}")
    return _unique(wanted) if wanted else held


def verdict_text(folder: Folder, this: str, other: str, kind: str, yardstick: str) -> str | None:
    """`vs other: better|worse|no difference (this - other [CI])`, from the stored row, or None."""
    found = folder.difference(this, other, kind, yardstick)
    if found is None:
        return None
    row, reversed_ = found
    d, low, high = row["difference"], row["ci_low"], row["ci_high"]
    if reversed_:
        d, low, high = -d, -high, -low
    winner = row["winner"] if row["readable"] else None
    word = {None: "no difference", this: "better"}.get(winner, "worse")
    return f"vs {other}: {word} ({interval_text(d, low, high, signed=True)})"


def accuracy_cell(folder: Folder, train_set: str, kind: str, yardstick: str) -> str:
    acc = folder.accuracy(train_set, kind, yardstick)
    if acc is None:
        return "-"
    parts = [interval_text(acc["accuracy"], acc["ci_low"], acc["ci_high"])]
    rmboost = folder.rmboost_set
    against = [] if train_set == "real" else ["real"]
    if rmboost is not None:
        against.append(f"real+{rmboost}" if train_set.startswith("real+") else rmboost)
    for other in against:
        if other != train_set and (text := verdict_text(folder, train_set, other, kind, yardstick)):
            parts.append(text)
    return "; ".join(parts)


def agreement_cell(folder: Folder, train_set: str) -> str:
    """The set's labels against the humans', else its rewrites' direction against the corrections."""
    row = next((r for r in folder.agreement_rows() if r["set"] == train_set), {})
    for m, said in (("labels", ""), ("direction", "rewrite direction ")):
        if m in row:
            return f"{said}{interval_text(row[m], row[f'{m}_low'], row[f'{m}_high'])} (n={row[f'{m}_n']})"
    return "-"


def row_order(folders: list[Folder]) -> list[str]:
    """Real, the Syn sets in the configs' method order, Real+each, the controls; only those some folder has."""
    syn = _unique(s for f in folders for s in f.syn_sets)
    present = set().union(*(f.sets() for f in folders))
    return [s for s in ["real", *syn, *(f"real+{s}" for s in syn), *CONTROLS] if s in present]


def columns(folders: list[Folder], yardsticks: list[str], all_kinds: bool) -> list[tuple[Folder, str, str, bool]]:
    """(folder, kind, yardstick, readable) of each accuracy column, folder by folder."""
    out = []
    for f in folders:
        for kind, y in f.pairs():
            readable = bool((f.calibration(kind, y) or {}).get("readable"))
            if y in yardsticks and (readable or all_kinds):
                out.append((f, kind, y, readable))
    return out


def folder_lines(folder: Folder) -> list[str]:
    r = folder.results
    data, sizes = r["dataset"], r["sizes"]
    counts = data.get("yardsticks")
    tests = (", ".join(f"{y} n={n}" for y, n in counts.items()) if isinstance(counts, dict) and counts
             else f"n={data.get('test_pairs', '-')}")
    line = (f"**{folder.label}**: {r['config'].get('name', folder.label)}; data {data.get('format', '?')} "
            f"({data.get('path', '?')}); test pairs: {tests}; Syn size: {sizes.get('syn_pairs', '-')} pairs")
    if r.get("output"):
        line += f"; made by `rmboost experiment --config ... --output {r['output']}`"
    if r.get("note"):
        line += f" ({r['note']})"
    return [line, *(f"- {note}" for note in sizes.get("notes") or [])]


def unreadable_line(folders: list[Folder], yardsticks: list[str]) -> str:
    parts = []
    for f in folders:
        for kind, y in f.pairs():
            cal = f.calibration(kind, y)
            if y not in yardsticks or (cal or {}).get("readable"):
                continue
            low, high = cal["sensitivity_ci"] if cal else (0.0, 0.0)
            what = "not calibrated" if cal is None else (
                f"sensitivity {interval_text(cal['sensitivity'], low, high, signed=True)}, MDD {cal['mdd']:.3f}")
            parts.append(f"{f.label} {kind} on {y} ({what})")
    return "not readable: " + "; ".join(parts) if parts else ""


def _label_folders(folders: list[Folder]) -> list[Folder]:
    """Two folders of one name are told apart by their place in the command."""
    counts: dict[str, int] = {}
    for f in folders:
        counts[f.label] = counts.get(f.label, 0) + 1
    return [Folder(f"{f.label} ({i + 1})" if counts[f.label] > 1 else f.label, f.source, f.results)
            for i, f in enumerate(folders)]


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def paper_table(folders: list[Folder], yardsticks: list[str] | None = None, all_kinds: bool = False) -> str:
    """The markdown: one line per folder, the table, a legend and the (kind, yardstick) pairs not read."""
    folders = _label_folders(folders)
    shown = yardsticks_of(folders, yardsticks)
    cols = columns(folders, shown, all_kinds)
    header = ["train set"] + [f"{f.label}: {k} on {y}" + ("" if ok else " (not readable)") for f, k, y, ok in cols]
    header += [f"{f.label}: labels agree with humans" for f in folders]
    lines = [line for f in folders for line in folder_lines(f)] + ["", _row(header), "|---" * len(header) + "|"]
    for s in row_order(folders):
        cells = [s] + [accuracy_cell(f, s, k, y) for f, k, y, _ in cols]
        lines.append(_row(cells + [agreement_cell(f, s) for f in folders]))
    lines += ["", LEGEND]
    unread = unreadable_line(folders, shown)
    return "\n".join(lines + (["", unread] if unread else [])) + "\n"
