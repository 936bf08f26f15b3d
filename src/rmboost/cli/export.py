"""`rmboost export PAIRS --to DIR [--push-to-hub REPO]`: a pair file as a Hugging Face `datasets`
folder (`datasets.load_from_disk(DIR)["train"]`) with a dataset card (README.md: the Hub's YAML
header, and how the pairs were made, yield, failures, tokens and cost, read from the files beside
the pair file). `--push-to-hub` sends both to the Hub through `datasets`' `push_to_hub` (log in
first: `huggingface-cli login`, or HF_TOKEN). The folder, the card and the push are
`integrations/hf_dataset.py`'s; this module parses the options and refuses `--private` without
`--push-to-hub`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from rmboost.cli import add_option, argument
from rmboost.options import add_dataclass_args, from_args, option


@dataclass
class ExportConfig:
    pairs: str = argument("the pair file (JSONL or Parquet) made by rmboost generate")
    to: str = option("", "folder to write the dataset and its README.md card to", required=True)
    license: str = option("other", "licence of the data for the card's header (a Hub licence id such as "
                          "apache-2.0 or cc-by-4.0); the prompts' and the model's terms apply too")
    name: str | None = option(None, "the dataset's name in the card; unset: the pair file's name")
    push_to_hub: str | None = option(None, "also push to this Hub dataset repo (user/name), with the card")
    private: bool = option(False, "with --push-to-hub: make the repo private")
    replace: bool = option(False, "replace the export of another pair file in --to (the export of the same file "
                           "is replaced without it)")


def _run(args: argparse.Namespace) -> int:
    from rmboost.errors import UsageError
    from rmboost.integrations.hf_dataset import export_pairs

    cfg = from_args(ExportConfig, args)
    if cfg.private and not cfg.push_to_hub:
        raise UsageError("--private applies to --push-to-hub only")
    result = export_pairs(cfg.pairs, cfg.to, license=cfg.license, name=cfg.name, push_to_hub=cfg.push_to_hub,
                          private=cfg.private, replace=cfg.replace)
    where = f"; pushed to https://huggingface.co/datasets/{result.pushed_to}" if result.pushed_to else ""
    print(f"exported {result.rows} pairs to {result.folder} (card: {result.folder}/README.md){where}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="a pair file as a Hugging Face dataset with a card (and the Hub)")
    add_option(parser, ExportConfig, "pairs", metavar="PAIRS")
    add_dataclass_args(parser, ExportConfig)
    parser.set_defaults(func=_run)
