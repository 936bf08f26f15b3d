"""`rmboost experiment`: reproduce the paper's comparison from a YAML config."""

from __future__ import annotations

import argparse

from rmboost.experiment.run import run_experiment


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "experiment",
        help="run the method x reward-model comparison on human-labelled data from a YAML config",
        description="Generate pairs with each method from the training prompts of the config's data "
        "(QA-Feedback, an HH-RLHF file or a TRL pair file), train each reward-model kind on Syn, Real and "
        "Real+Syn (and the controls, on QA-Feedback; and the calibration sets made from Real), score them on "
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
    parser.add_argument("--archive-pairs", default=None, metavar="FOLDER",
                        help="after the run, write every method's pairs (gzip) with their settings, summary and "
                        "failures files into FOLDER, for --pairs-from")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    summary = run_experiment(args.config, args.output, quiet=getattr(args, "quiet", False), replace=args.replace,
                             pairs_from=args.pairs_from)
    if args.archive_pairs:
        from pathlib import Path

        from rmboost.experiment.pairs_archive import archive_pairs

        names = [g["set"] for g in summary["generation"]] or [v["name"] for v in summary["config"]["methods"]]
        out = Path(summary["output"])
        archive_pairs(out / "pairs", names, Path(args.archive_pairs))
    print(summary["headline"])
    print(f"{len(summary['results'])} reward models scored in {summary['wall_seconds']:.0f}s")
    return 0
