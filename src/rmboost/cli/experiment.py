"""`rmboost experiment --config FILE [--output DIR]`: reproduce the paper's comparison from a YAML
config, and say how to continue a run that stopped before training. The run itself (config checks,
generation, training, scoring, results files) is `experiment/run.py`'s; this module parses the
options and prints the headline."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from rmboost.cli import add_option
from rmboost.options import from_args, option


@dataclass
class ExperimentConfig:
    config: str = option("", "experiment YAML (see configs/)", required=True)
    output: str | None = option(None, "output folder (default runs/<config name>)")
    replace: bool = option(False, "the output folder holds another config's results: delete them and start afresh "
                           "(without it such a folder is refused; a rerun of the same config always resumes)")
    pairs_from: str | None = option(None, "take every method's pairs from FOLDER (<name>.jsonl.gz with its settings, "
                                    "as --archive-pairs writes them, e.g. results/full-given/pairs) instead of "
                                    "generating them: a rerun of training and scoring with no LLM")
    continue_from: str | None = option(None, "continue the run an archive holds (as --archive-pairs writes it, e.g. "
                                       "committed under results/): put its pairs into this run's pairs/ folder, "
                                       "generate only the prompts not done (a method it holds whole makes no LLM "
                                       "call), then train and score. A config that makes pairs otherwise is refused")
    archive_pairs: str | None = option(None, "keep every method's pairs (gzip) with their settings, summary and "
                                       "failures files, the run's settings and progress.json in FOLDER: as each "
                                       "method stops, every 10 minutes while it runs, and when --generate-for stops "
                                       "the run (for --continue-from and --pairs-from)")
    generate_for: float | None = option(None, "take no new prompt MINUTES after the start (those in flight finish), "
                                        "keep what was made, print the prompts done per method and the time left, "
                                        "and stop before training (exit 0) unless every method is done")


def _run(args: argparse.Namespace) -> int:
    from rmboost.experiment.run import run_experiment

    cfg = from_args(ExperimentConfig, args)
    summary = run_experiment(cfg.config, cfg.output, quiet=getattr(args, "quiet", False), replace=cfg.replace,
                             pairs_from=cfg.pairs_from, continue_from=cfg.continue_from,
                             archive=cfg.archive_pairs, generate_for=cfg.generate_for)
    print(summary["headline"])
    if not summary.get("complete", True):
        archive = summary["archive"]
        if archive:
            print(f"continue with: rmboost experiment --config {cfg.config} --output {cfg.output or 'FOLDER'} "
                  f"--continue-from {archive} --archive-pairs {archive} [--generate-for MINUTES]")
        else:
            print(f"resume with the same command: the pairs are in {summary['output']}/pairs, on this machine "
                  "only (--archive-pairs FOLDER keeps them where a commit can)")
        return 0
    print(f"{len(summary['results'])} reward models scored in {summary['wall_seconds']:.0f}s")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "experiment",
        help="run the method x reward-model comparison on human-labelled data from a YAML config",
        description="Generate pairs with each method from the training prompts of the config's data "
        "(QA-Feedback, OpenAI's TL;DR comparisons, UltraFeedback, an HH-RLHF file or a TRL pair file), train "
        "each reward-model kind on Syn, Real and Real+Syn (and the controls, on QA-Feedback; and the calibration "
        "sets made from Real), score them on "
        "every yardstick of the data; write results.md/.json/.png, calibration.png and report.html. The whole "
        "config is checked before anything runs; a folder holding another config's results is refused.",
    )
    add_option(parser, ExperimentConfig, "config")
    add_option(parser, ExperimentConfig, "output")
    add_option(parser, ExperimentConfig, "replace", action="store_true")
    for folder in ("pairs_from", "continue_from", "archive_pairs"):
        add_option(parser, ExperimentConfig, folder, metavar="FOLDER")
    add_option(parser, ExperimentConfig, "generate_for", type=float, metavar="MINUTES")
    parser.set_defaults(func=_run)
