"""`rmboost train --data FILE [--data FILE ...] [--rm KIND] --output DIR [--seed N]`: train a
Bradley-Terry reward model on one or more pair files and save it to DIR (with its training curve).
A share of the training questions is held out to pick the best checkpoint; the steps, the loss and
the validation accuracy show as they go (`progress_display.TrainingProgress`: a bar on a terminal,
a line every 15 s otherwise, nothing with --quiet). Reading the pairs and training are `rm/train.py`'s;
this module refuses what it can before the data is read (`check_before_training`) and shows that a
long silent step is still working (`Heartbeat`)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, get_args

from rmboost.data.formats import expect_format, named
from rmboost.data.qa_feedback import Split
from rmboost.io.rows import OnError
from rmboost.options import add_dataclass_args, from_args, on_error_option, option
from rmboost.progress_display import TrainingProgress
from rmboost.rm.train import DEFAULT_KIND


@dataclass
class TrainConfig:
    data: list[str] = option([], "a pair file (TRL JSONL or Parquet); repeat to train on a mixture", required=True)
    rm: str = option(DEFAULT_KIND, f"kind: features-sim, features, maxsim, minilm, embed-linear, smollm2, or "
                     f"hf:PATH (a local transformers checkpoint); default {DEFAULT_KIND}, the one that learns "
                     "most from its labels (docs/METHODS.md)")
    output: str = option("", "directory to save the reward model in", required=True)
    seed: int = option(0, "seed for initialisation and shuffling")
    format: str = option("trl", "format of the --data files", choices=named("load"))
    split: Split = option("all", "questions to use with --format qa-feedback", choices=list(get_args(Split)))
    epochs: float | None = option(None, "passes over the data (kind's default if unset)")
    lr: float | None = option(None, "learning rate (kind's default if unset)")
    batch_size: int | None = option(None, "pairs per step (kind's default if unset)")
    max_length: int | None = option(None, "tokens per (prompt, response) input; longer ones are cut, see truncation.py")
    validation_fraction: float | None = option(None, "share of the training questions held out to pick the "
                                               "best checkpoint (default 0.2; 0 trains on all, keeps the last)")
    patience: int | None = option(None, "stop after this many evaluations without a validation gain")
    replace: bool = option(False, "replace what --output holds (a saved model, of any kind) wholly; without it "
                           "an --output that holds anything is refused")
    on_error: OnError = on_error_option()


def check_before_training(cfg: TrainConfig, overrides: dict[str, Any], command: str = "rmboost train") -> None:
    """Everything that can be refused before the data is read or a model trained: the kind and its
    settings, each --data file's kind of rows, the output folder."""
    from rmboost.io.output import check_output
    from rmboost.rm.base import check_model_output, check_overrides
    from rmboost.rm.train import check_kind

    check_kind(cfg.rm)  # a wrong kind or hf:PATH folder is refused before the data is read
    check_overrides(cfg.rm, overrides)
    for f in cfg.data:
        expect_format(f, cfg.format, command)  # a swapped file is refused before anything is read
    check_output(cfg.output, "--output", folder=True)
    check_model_output(cfg.output, cfg.replace)


class Heartbeat:
    """A line on stderr every `every` seconds while training says nothing (a kind computing its
    features or loading an encoder before its first step), with the time so far."""

    every = 15.0

    def __init__(self, label: str, enabled: bool = True) -> None:
        self.label, self.enabled = label, enabled
        self.start = self.last = time.monotonic()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(self.every / 3):
            now = time.monotonic()
            if now - self.last >= self.every:
                print(f"{self.label}: {now - self.start:.0f}s so far, still working (features, encoders or a step)",
                      file=sys.stderr, flush=True)
                self.last = now

    def wrap(self, on_progress: Any) -> Any:
        def called(*args: Any) -> Any:
            self.last = time.monotonic()
            return on_progress(*args)

        return called

    def __enter__(self) -> Heartbeat:
        if self.enabled:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()


def _run(args: argparse.Namespace) -> int:
    from rmboost.io.rows import SkipCounter
    from rmboost.rm.train import load_training_pairs, train_reward_model

    cfg = from_args(TrainConfig, args)
    overrides: dict[str, Any] = {
        "epochs": cfg.epochs,
        "lr": cfg.lr,
        "batch_size": cfg.batch_size,
        "max_length": cfg.max_length,
        "validation_fraction": cfg.validation_fraction,
        "patience": cfg.patience,
    }
    check_before_training(cfg, overrides)
    start = time.perf_counter()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    counter = SkipCounter(on_error=cfg.on_error)
    pairs = load_training_pairs(cfg.data, cfg.format, counter, cfg.split)
    if counter.skipped:
        print(f"skipped {counter.skipped} malformed rows, e.g. {counter.first_errors[0]}", file=sys.stderr)
    quiet = getattr(args, "quiet", False)
    if not quiet:
        print(f"read {len(pairs)} pairs in {time.perf_counter() - start:.1f}s; training {cfg.rm}", file=sys.stderr)
    progress = TrainingProgress(f"train {cfg.rm}", enabled=not quiet)
    with Heartbeat(f"train {cfg.rm}", enabled=not quiet) as beat:
        try:
            model = train_reward_model(pairs, cfg.rm, cfg.seed, on_progress=beat.wrap(progress), **overrides)
        finally:
            progress.close()
    seconds = time.perf_counter() - start
    model.save(cfg.output, replace=cfg.replace)
    print(f"trained {cfg.rm} on {len(pairs)} pairs in {seconds:.1f}s (reading the data and loading its encoders "
          f"included); saved to {cfg.output}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a reward model on preference pairs")
    add_dataclass_args(parser, TrainConfig)
    parser.set_defaults(func=_run)
