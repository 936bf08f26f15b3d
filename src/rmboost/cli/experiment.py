"""`rmboost experiment`: reproduce the paper's comparison from a YAML config."""

from __future__ import annotations

import argparse

from rmboost.experiment.run import run_experiment


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "experiment",
        help="run the method x reward-model comparison on human-labelled data from a YAML config",
        description="Generate pairs with each method from the training prompts of the config's data "
        "(QA-Feedback, OpenAI's TL;DR comparisons, UltraFeedback, an HH-RLHF file or a TRL pair file), train "
        "each reward-model kind on Syn, Real and Real+Syn (and the controls, on QA-Feedback; and the calibration "
        "sets made from Real), score them on "
        "every yardstick of the data; write results.md/.json/.png, calibration.png and report.html. The whole "
        "config is checked before anything runs; a folder holding another config's results is refused.",
    )
    parser.add_argument("--config", required=True, help="experiment YAML (see configs/)")
    parser.add_argument("--output", default=None, help="output folder (default runs/<config name>)")
    parser.add_argument("--replace", action="store_true",
                        help="the output folder holds another config's results: delete them and start afresh "
                        "(without it such a folder is refused; a rerun of the same config always resumes)")
    parser.add_argument("--pairs-from", default=None, metavar="FOLDER",
                        help="take every method's pairs from FOLDER (<name>.jsonl.gz with its settings, as "
                        "--archive-pairs writes them, e.g. results/full-given/pairs) instead of generating them: "
                        "a rerun of training and scoring with no LLM")
    parser.add_argument("--continue-from", default=None, metavar="FOLDER",
                        help="continue the run an archive holds (as --archive-pairs writes it, e.g. committed under "
                        "results/): put its pairs into this run's pairs/ folder, generate only the prompts not done "
                        "(a method it holds whole makes no LLM call), then train and score. A config that makes "
                        "pairs otherwise is refused")
    parser.add_argument("--archive-pairs", default=None, metavar="FOLDER",
                        help="keep every method's pairs (gzip) with their settings, summary and failures files, the "
                        "run's settings and progress.json in FOLDER: as each method stops, every 10 minutes while "
                        "it runs, and when --generate-for stops the run (for --continue-from and --pairs-from)")
    parser.add_argument("--generate-for", default=None, type=float, metavar="MINUTES",
                        help="take no new prompt MINUTES after the start (those in flight finish), keep what was "
                        "made, print the prompts done per method and the time left, and stop before training "
                        "(exit 0) unless every method is done")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    summary = run_experiment(args.config, args.output, quiet=getattr(args, "quiet", False), replace=args.replace,
                             pairs_from=args.pairs_from, continue_from=args.continue_from,
                             archive=args.archive_pairs, generate_for=args.generate_for)
    print(summary["headline"])
    if not summary.get("complete", True):
        archive = summary["archive"]
        if archive:
            print(f"continue with: rmboost experiment --config {args.config} --output {args.output or 'FOLDER'} "
                  f"--continue-from {archive} --archive-pairs {archive} [--generate-for MINUTES]")
        else:
            print(f"resume with the same command: the pairs are in {summary['output']}/pairs, on this machine "
                  "only (--archive-pairs FOLDER keeps them where a commit can)")
        return 0
    print(f"{len(summary['results'])} reward models scored in {summary['wall_seconds']:.0f}s")
    return 0
