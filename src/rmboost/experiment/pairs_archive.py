"""The pair files an experiment trained on, kept so that anyone can rerun its training and scoring
without an LLM: `archive_pairs` writes each method's pairs (gzip JSONL) with its settings,
summary and failures files into a folder (committed under `results/`); `--pairs-from FOLDER`
(`restore_pairs`) puts them back into a run's `pairs/` folder instead of generating.

An archive is checked before a run starts: every method of the config must have its pair file
there. The settings file travels with the pairs, so what made them stays on record.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from rmboost.errors import InputError

SIDE_FILES = (".settings.json", ".summary.json", ".failures.jsonl")


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


def archive_pairs(pairs_dir: Path, names: list[str], folder: Path) -> list[Path]:
    """Gzip each method's pair file (and failures) from a run's `pairs/` into `folder`; copy its settings
    and summary as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        for suffix in (".jsonl", *SIDE_FILES):
            src = pairs_dir / f"{name}{suffix}"
            if not src.is_file():
                continue
            if suffix.endswith(".jsonl"):
                dest = folder / f"{src.name}.gz"
                with src.open("rb") as f, gzip.open(dest, "wb", compresslevel=9) as g:
                    shutil.copyfileobj(f, g)
            else:
                dest = folder / src.name
                shutil.copyfile(src, dest)
            written.append(dest)
    return written
