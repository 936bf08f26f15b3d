"""A pair file as a Hugging Face `datasets` folder (`save_to_disk`, one `train` split) with its
dataset card, and the same pushed to the Hub through `datasets`' own `push_to_hub`.

Every row must be a preference pair as `rmboost train` reads it (`data.trl_pairs.parse_row`, in
`data.row_loop`'s loop; a bad one is an error naming its line and field). The columns are the
file's, every row given every column (a column a row lacks is null); a column whose values are
mappings (`params`, `usage`, ...) becomes JSON text, as rmboost's Parquet files
store it, since rows of different methods hold different keys there. Lists of messages stay lists
of `{role, content}`. The folder is written beside its final place and then moved there, so an
interrupted export leaves the old folder or the new one; a folder that is not an earlier export is
never replaced, nor (without `replace`) the export of another pair file (`rmboost_export.json` names
the file a folder was exported from). Pushing sends the data with `DatasetDict.push_to_hub`, then the card with
`huggingface_hub.DatasetCard.push_to_hub`, since `datasets` writes only a header of its own.

Left out: what the card says (`dataset_card.py`, `provenance.py`).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rmboost.data.row_loop import LeftOut, parsed_rows
from rmboost.data.trl_pairs import parse_row
from rmboost.errors import UsageError, UserError
from rmboost.integrations.dataset_card import render_card
from rmboost.integrations.provenance import read_provenance
from rmboost.io.output import check_output
from rmboost.io.row_kinds import PAIRS, expect_rows

CARD = "README.md"
SOURCE = "rmboost_export.json"  # which pair file the folder is the export of


@dataclass
class ExportResult:
    folder: str
    rows: int
    card: str  # the README.md text
    pushed_to: str | None = None


def _pair_row(row: Any, source: str, line: int) -> dict[str, Any]:
    """A row as it is in the file, once `parse_row` has found it a preference pair (or raised an error
    naming line and field). A pair its rule leaves out (two conversations that differ before the last
    reply) is well formed, and a pair file may hold it: it is exported."""
    try:
        parse_row(row, source, line)
    except LeftOut:
        pass
    return row  # an object: parse_row refuses anything else


def columns(path: Path) -> dict[str, list[Any]]:
    """The file's rows as columns (the union of their keys, in order of first use)."""
    rows = parsed_rows(path, _pair_row)
    if not rows:
        raise UserError(f"{path}: no pairs to export (the file is empty)")
    names = list(dict.fromkeys(k for row in rows for k in row))
    mapped = {k for row in rows for k, v in row.items() if isinstance(v, dict)}
    return {k: [json.dumps(r[k], ensure_ascii=False) if k in mapped and r.get(k) is not None else r.get(k)
                for r in rows] for k in names}


def exported_from(folder: Path) -> str | None:
    """The pair file an earlier export into `folder` was made from (None: unknown or none)."""
    try:
        value = json.loads((folder / SOURCE).read_text(encoding="utf-8")).get("pairs_file")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


def check_target(folder: Path, source: Path, replace: bool = False) -> None:
    """Refuse, before anything is read, a `--to` that is a file or cannot be written, a folder that
    is not an earlier export, and (without `replace`) the export of another pair file."""
    check_output(folder, "--to", folder=True)
    if not folder.exists() or not any(folder.iterdir()):
        return
    if not (folder / "dataset_dict.json").is_file():
        raise UsageError(f"--to {folder}: exists and is not an earlier export (no dataset_dict.json); choose "
                         "another folder")
    earlier = exported_from(folder)
    if not replace and earlier != str(source.resolve()):
        raise UsageError(f"--to {folder}: holds the export of {earlier or 'another pair file'}; give --replace to "
                         "replace it, or another folder")


def export_pairs(pairs_file: str | Path, to: str | Path, *, license: str = "other", name: str | None = None,
                 push_to_hub: str | None = None, private: bool = False, replace: bool = False) -> ExportResult:
    """Write `pairs_file` to the folder `to` as a `datasets` DatasetDict with a README.md card;
    with `push_to_hub` (a repo id such as `user/name`), push both to the Hub as well. A folder
    holding the export of another pair file is replaced only with `replace`."""
    import datasets

    datasets.disable_progress_bars()
    src, folder = Path(pairs_file), Path(to)
    if not src.is_file():
        raise UserError(f"{src}: no such file")
    expect_rows(src, PAIRS, "rmboost export")
    check_target(folder, src, replace)
    rows = columns(src)  # every row a pair, by the rule every reader of pairs shares, before anything else
    facts = read_provenance(src)
    try:
        table = datasets.Dataset.from_dict(rows)
    except (ValueError, TypeError, OverflowError) as e:  # pyarrow's ArrowInvalid, ArrowTypeError, ...
        raise UserError(f"{src}: cannot make a dataset of these rows: {e}") from e
    dataset = datasets.DatasetDict({"train": table})
    card = render_card(facts, license, name, push_to_hub)
    staging = folder.with_name(folder.name + ".rmboost-tmp")
    if staging.exists():
        shutil.rmtree(staging)
    dataset.save_to_disk(str(staging))
    (staging / CARD).write_text(card, encoding="utf-8")
    (staging / SOURCE).write_text(json.dumps({"pairs_file": str(src.resolve())}) + "\n", encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    result = ExportResult(str(folder), facts.rows, card)
    if push_to_hub:
        push(dataset, card, push_to_hub, private)
        result.pushed_to = push_to_hub
    return result


def push(dataset: Any, card: str, repo: str, private: bool) -> None:
    """The data through `datasets`' `push_to_hub` (which makes the repo), then the card."""
    from huggingface_hub import DatasetCard

    try:
        dataset.push_to_hub(repo, private=private)
        DatasetCard(card).push_to_hub(repo, repo_type="dataset")
    except Exception as e:  # the Hub client raises many types (HTTP, auth, value); each is one line here
        raise UserError(f"push to the Hub repo {repo} failed: {type(e).__name__}: {e}") from e
