"""One output folder holds one config's results. `experiment.json` in the folder records the
settings that change a result (every config field but `name` and the generate options that change
no row: threads, concurrency, progress, the cache folder); a run
with other settings is refused before anything in the folder changes, naming the fields that
differ and the option that replaces the old results (`--replace`). A rerun with the same settings
resumes. A folder made before this file existed is judged by its `results.json`'s config.

`--replace` empties the folder's experiment files (data, pairs, models, results, report) and keeps
anything else, so a folder someone pointed at by mistake loses only what an experiment wrote. A
folder whose first run stopped before any result (no results, model or pair: a config mistake)
takes the corrected config without `--replace`: there is nothing to lose.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rmboost.errors import UsageError
from rmboost.experiment.config import ExperimentConfig
from rmboost.io.output import check_output

STATE_FILE = "experiment.json"
# What an experiment writes into its folder; --replace removes these and nothing else.
MADE = ("data", "pairs", "models", "results.json", "results.md", "results.png", "stats.md", "stats.png",
        "report.html", "calibration.png", STATE_FILE)
_COSMETIC = {"name"}


def _result_options(options: dict[str, Any]) -> dict[str, Any]:
    """Generate options without those that change how a run goes but no row (`RUN_SETTINGS`:
    threads, concurrency, progress, cache folder...), as the pair files' own fingerprint does."""
    from rmboost.generation.config import RUN_SETTINGS

    return {k: v for k, v in options.items() if k not in RUN_SETTINGS or k == "limit"}


def result_settings(config: ExperimentConfig | dict[str, Any]) -> dict[str, Any]:
    raw = asdict(config) if isinstance(config, ExperimentConfig) else dict(config)
    out = {k: v for k, v in raw.items() if k not in _COSMETIC}
    out["generation"] = _result_options(out.get("generation") or {})
    out["methods"] = [{**m, "options": _result_options(m.get("options") or {})} if isinstance(m, dict) else m
                      for m in out.get("methods") or []]
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def _saved(out: Path) -> dict[str, Any] | None:
    for name, key in ((STATE_FILE, "settings"), ("results.json", "config")):
        path = out / name
        if path.is_file():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise UsageError(f"{path}: unreadable, so this folder's settings are unknown; "
                                 "rerun with --replace to start it afresh") from None
            if isinstance(saved, dict) and isinstance(saved.get(key), dict):
                return result_settings(saved[key])
    return None


def differing(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted names of the fields whose values differ."""
    names = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            names += differing(a, b, f"{prefix}{key}.")
        elif a != b:
            names.append(f"{prefix}{key}")
    return names


def holds_results(out: Path) -> bool:
    """Whether a run left anything worth keeping: results, a scored model, or a pair generated (an
    LLM's work). A first run that stopped before any (a config mistake) left none."""
    if (out / "results.json").exists() or any((out / "models").glob("*/eval.json")):
        return True
    pairs = out / "pairs"
    return pairs.is_dir() and any(f.is_file() and f.stat().st_size for f in pairs.rglob("*"))


def check_folder(out: Path, config: ExperimentConfig, replace: bool) -> None:
    """Refuse a folder holding another config's results (nothing is changed), or with `replace`
    remove those results. A folder whose run stopped before any result takes the new config (its
    files are removed as `replace` would). A folder that cannot be made (a parent that is a file, no
    permission) is refused here too. Call before the run writes anything."""
    check_output(out, "--output", folder=True)
    saved = _saved(out) if out.is_dir() else None
    if saved is None:
        return
    diffs = differing(saved, result_settings(config))
    if not diffs:
        return
    if not replace and holds_results(out):
        shown = ", ".join(diffs[:6]) + (f" and {len(diffs) - 6} more" if len(diffs) > 6 else "")
        raise UsageError(f"{out}: holds the results of another config (different {shown}); give another "
                         "--output, or rerun with --replace to delete those results and start afresh")
    for name in MADE:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def record(out: Path, config: ExperimentConfig) -> None:
    (out / STATE_FILE).write_text(json.dumps({"name": config.name, "settings": result_settings(config)},
                                             indent=2, sort_keys=True) + "\n", encoding="utf-8")
