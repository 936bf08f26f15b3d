"""The pair files an experiment made, kept in a folder committed under `results/` so that the run
outlives its machine: `archive_pairs` writes each method's pairs (gzip JSONL) with its settings,
summary and failures files, the experiment's settings (`experiment.json`) and its progress
(`progress.json`, `progress_estimate.py`), and a model the pairs depend on (West-of-N's scorer,
under `models/`). `--pairs-from FOLDER` (`restore_pairs`) puts every
method's pairs back instead of generating; `--continue-from FOLDER` puts back what the folder holds
and generates the rest (`chunks.py`).

An archive is never made to lose pairs: a file is rewritten only when its content changed
(byte-identical gzip, mtime 0, so a commit shows no change for the same pairs), atomically, and a
run that would overwrite pairs it does not hold is refused before it starts. A continue with other
settings is refused before anything changes: the settings that make pairs (data, split, seed,
generate options other than `limit`, each method's options) must be the archive's; what only
trains and scores (kinds, seeds, bootstrap, calibration, yardsticks) may change. The pair files'
own settings files are checked again when generation resumes (`generation/settings.py`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rmboost.errors import InputError, UsageError, UserError
from rmboost.experiment.config import ExperimentConfig
from rmboost.experiment.folder_state import STATE_FILE, differing, result_settings

SIDE_FILES = (".settings.json", ".summary.json", ".failures.jsonl")
# Config fields that only train and score: a continue may change them; every other field makes pairs.
TRAINING_ONLY = ("reward_models", "train_sets", "rm_seeds", "rm_overrides", "bootstrap", "stats", "embeddings",
                 "controls", "calibration", "yardsticks")


def archived(folder: Path, name: str) -> Path:
    return folder / f"{name}.jsonl.gz"


def check_archive(folder: Path, names: list[str]) -> None:
    for name in names:
        if not archived(folder, name).is_file():
            raise InputError(str(archived(folder, name)), 0, None,
                             f"no such file: --pairs-from needs the pairs of every method ({', '.join(names)})")


def _gunzip(src: Path, dest: Path) -> None:
    with gzip.open(src, "rb") as f, dest.open("wb") as g:
        shutil.copyfileobj(f, g)


def restore_pairs(folder: Path, name: str, out: Path) -> Path:
    """`folder`'s pairs of `name` (and its side files) as `out`; returns `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _gunzip(archived(folder, name), out)
    for suffix in SIDE_FILES:
        for src in (folder / f"{name}{suffix}.gz", folder / f"{name}{suffix}"):
            if src.is_file():
                dest = out.with_name(f"{name}{suffix}")
                _gunzip(src, dest) if src.suffix == ".gz" else shutil.copyfile(src, dest)
    return out


def _content(path: Path) -> bytes | None:
    if not path.is_file():
        return None
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def pair_ids(path: Path) -> set[str]:
    """The ids of a pair file (`.jsonl` or `.jsonl.gz`); a torn line (a killed writer) is left out."""
    data = _content(path) or b""
    ids = set()
    for line in data.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "id" in row:
            ids.add(str(row["id"]))
    return ids


def _keep(data: bytes, dest: Path) -> bool:
    """Write `data` (gzip when `dest` ends in .gz) as `dest`, atomically, unless it holds it already."""
    if _content(dest) == data:
        return False
    if dest.suffix == ".gz":
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as g:
            g.write(data)
        data = buffer.getvalue()
    part = dest.with_name(dest.name + ".part")
    part.write_bytes(data)
    os.replace(part, dest)
    return True


def archive_pairs(pairs_dir: Path, names: list[str], folder: Path) -> list[Path]:
    """Gzip each method's pair file (and failures) from a run's `pairs/` into `folder`; copy its settings
    and summary as they are. Returns the files whose content changed."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        for suffix in (".jsonl", *SIDE_FILES):
            src = pairs_dir / f"{name}{suffix}"
            if not src.is_file():
                continue
            dest = folder / (f"{src.name}.gz" if suffix.endswith(".jsonl") else src.name)
            if _keep(src.read_bytes(), dest):
                written.append(dest)
    return written


def archive_file(src: Path, folder: Path) -> None:
    """Copy `src` (the run's `experiment.json`, `progress.json`) into the archive `folder`."""
    if src.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _keep(src.read_bytes(), folder / src.name)


def archive_folder(src: Path, dest: Path) -> None:
    """The files of a model folder `src` as `dest` in the archive (as they are, not gzipped)."""
    for f in sorted(src.iterdir()):
        if f.is_file():
            dest.mkdir(parents=True, exist_ok=True)
            _keep(f.read_bytes(), dest / f.name)


def check_continuable(folder: Path) -> None:
    if not folder.is_dir() or not (any(folder.glob("*.jsonl.gz")) or (folder / STATE_FILE).is_file()):
        raise UserError(f"{folder}: not an archive of pairs (no <method>.jsonl.gz and no {STATE_FILE}); "
                        "--continue-from takes a folder that --archive-pairs wrote")


def check_no_loss(folder: Path, names: list[str], holders: Callable[[str], list[Path]]) -> None:
    """Refuse to archive into `folder` a method whose archived pairs are not all in `holders(name)`
    (the pair files this run starts from): the run would overwrite them with fewer."""
    for name in names:
        kept = pair_ids(archived(folder, name))
        if not kept:
            continue
        held = set().union(*(pair_ids(p) for p in holders(name)))
        if not kept <= held:
            raise UsageError(f"{archived(folder, name)} holds {len(kept - held)} pairs this run does not start "
                             f"from: continue from them (--continue-from {folder}), or archive into another folder")


def _pair_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that make pairs (without `limit`, which only says how far a run goes), and each
    method's own, by name."""
    def no_limit(options: Any) -> dict[str, Any]:
        return {k: v for k, v in (options or {}).items() if k != "limit"}

    top = {k: v for k, v in settings.items() if k not in TRAINING_ONLY and k != "methods"}
    top["generation"] = no_limit(top.get("generation"))
    methods = {str(m.get("name")): {**m, "options": no_limit(m.get("options"))}
               for m in settings.get("methods") or [] if isinstance(m, dict)}
    return top, methods


def check_same_pairs(folder: Path, config: ExperimentConfig) -> None:
    """Refuse to continue `folder`'s pairs with a config that makes pairs otherwise. A method the
    archive holds no pair file of has made nothing to mix with, so its settings may change (a method
    whose pair files were taken out to be made again with a fixed judge, say). An archive from
    before `experiment.json` was kept is left to its pair files' settings files."""
    path = folder / STATE_FILE
    if not path.is_file():
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"{path}: unreadable, so the settings that made these pairs are unknown") from None
    old_top, old_methods = _pair_settings(saved)
    new_top, new_methods = _pair_settings(result_settings(config))
    diffs = differing(old_top, new_top)
    for name in sorted(new_methods.keys() & old_methods.keys()):
        if not archived(folder, name).is_file():
            continue
        diffs += [f"methods.{name}.{d}" for d in differing(old_methods[name], new_methods[name])]
    if diffs:
        shown = ", ".join(diffs[:6]) + (f" and {len(diffs) - 6} more" if len(diffs) > 6 else "")
        raise UsageError(f"{folder}: its pairs were made with other settings (different {shown}); continue with "
                         "the config that made them, or start a new archive (--archive-pairs elsewhere, "
                         "without --continue-from)")


def prompts_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
