"""The report of a large experiment folder: its file size and how long it takes to open in headless
Chromium (the same `/usr/bin/chromium` and Playwright the browser tests use).

Targets (issue 19): a report of the full experiment folder is under 10 MB and opens in under 2 s.
Without a FOLDER, a synthetic one is built that is larger than the full profile's output: nine
pair sets (the full profile's seven plus the two controls) of `--pairs` pairs each over shared
~500-word prompts, 10% failures with raw text, 1,253 Real pairs and a results.json for two kinds.
Each report is built twice, with the default size limit and complete (`--max-mb 0`), so the
table shows what the sample saves side by side. "open" is the wall time of `page.goto` until the
load event (the page's script, which builds the first 50 cards, runs before it); "pairs tab" is
a click on the Pairs tab and a method filter until the list is redrawn. Medians of `--repeats`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from workloads import machine, verdict

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from rmboost.io.rows import write_rows  # noqa: E402
from rmboost.report import write_report  # noqa: E402

SETS = ["rmboost", "rlaif", "west-of-n", "rlcd", "rmboost-length", "rmboost-verify", "rlaif-average",
        "oracle-rewrite", "oracle-rewrite-flipped"]
ASPECTS = ["relevance", "faithfulness", "correctness", "completeness", "coherence"]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def words(rng: random.Random, vocab: list[str], n: int) -> str:
    return " ".join(rng.choice(vocab) for _ in range(n))


def edit(rng: random.Random, vocab: list[str], text: str) -> str:
    """A rewrite: most words kept, some dropped, some new ones."""
    out = []
    for w in text.split():
        if rng.random() > 0.15:
            out.append(w)
        if rng.random() < 0.12:
            out.append(rng.choice(vocab))
    return " ".join(out)


def build_folder(root: Path, pairs: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(4000)]
    prompts = [f"Answer the question using the passages.\n\nPassages:\n{words(rng, vocab, 480)}\n\n"
               f"Question: {words(rng, vocab, 10)}?" for _ in range(pairs)]
    (root / "pairs").mkdir(parents=True)
    (root / "data").mkdir()
    for name in SETS:
        method = "rmboost" if name.startswith("rmboost") else "rlaif" if name.startswith("rlaif") else name
        rows, failures = [], []
        for i, prompt in enumerate(prompts):
            if rng.random() < 0.1:
                failures.append({"id": f"q{i}", "stage": "y2", "reason": rng.choice(["identical to y1", "empty"]),
                                 "method": method, "detail": {"raw": words(rng, vocab, 80)}})
                continue
            y1 = words(rng, vocab, rng.randint(40, 120))
            edits = method in ("rmboost", "oracle-rewrite", "oracle-rewrite-flipped")
            y2 = edit(rng, vocab, y1) if edits else words(rng, vocab, rng.randint(40, 120))
            label = ("BETTER" if i % 2 == 0 else "WORSE") if method == "rmboost" else None
            chosen, rejected = (y2, y1) if label != "WORSE" else (y1, y2)
            aspects = rng.sample(ASPECTS, rng.randint(1, 3)) if method == "rmboost" else ASPECTS
            rows.append({"id": f"q{i}", "prompt": prompt, "chosen": chosen, "rejected": rejected, "method": method,
                         "label": label, "aspects": aspects, "task": "qa", "usage": {"prompt_tokens": 900}})
        write_rows(root / "pairs" / f"{name}.jsonl", rows)
        write_rows(root / "pairs" / f"{name}.failures.jsonl", failures)
    real = [{"id": f"r{i}", "prompt": prompts[i % min(250, len(prompts))], "chosen": words(rng, vocab, 70),
             "rejected": words(rng, vocab, 65), "method": "human", "aspects": []} for i in range(1253)]
    write_rows(root / "data" / "real_train.jsonl", real)
    train_sets = ["real", *SETS, *(f"real+{s}" for s in SETS)]
    results = [{"train_set": s, "rm": k, "accuracy": 0.5 + rng.uniform(-0.05, 0.05), "ci_low": 0.46, "ci_high": 0.58,
                "train_pairs": pairs} for k in ("embed-linear", "minilm") for s in train_sets]
    diffs = [{"a": "rmboost", "b": s, "rm": k, "difference": 0.01, "ci_low": -0.03, "ci_high": 0.05}
             for k in ("embed-linear", "minilm") for s in SETS[1:]]
    (root / "results.json").write_text(json.dumps({"config": {"name": "bench", "methods": SETS[:7]},
                                                   "results": results, "differences": diffs}))
    return root


def measure(browser: object, report: Path, repeats: int) -> tuple[float, float]:
    opens, tabs = [], []
    for _ in range(repeats):
        page = browser.new_page(viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
        start = time.perf_counter()
        page.goto(report.resolve().as_uri(), wait_until="load")
        opens.append(time.perf_counter() - start)
        start = time.perf_counter()
        page.click("nav.tabs button[data-tab=pairs]")
        page.select_option("#f-method", index=1)
        # A selector wait: the page's CSP (no eval) refuses Playwright's polled JS predicates.
        page.wait_for_selector("#pair-count[data-state=ready]", state="attached")
        tabs.append(time.perf_counter() - start)
        page.close()
    return statistics.median(opens), statistics.median(tabs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", help="an experiment folder (default: a synthetic one)")
    parser.add_argument("--pairs", type=int, default=2000, help="prompts per synthetic set")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny input, for CI: judges no target")
    args = parser.parse_args()
    if args.smoke:
        args.pairs, args.repeats = 40, 1
    from playwright.sync_api import sync_playwright

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = Path(args.folder) if args.folder else build_folder(work / "exp", args.pairs)
        print(f"folder: {folder if args.folder else f'synthetic, {len(SETS)} sets x {args.pairs} prompts'}")
        rows = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for label, limit in (("default limit", "default"), ("complete", None)):
                start = time.perf_counter()
                kwargs = {} if limit == "default" else {"max_bytes": None}
                report = write_report(folder, work / f"{label.replace(' ', '-')}.html", **kwargs)
                built = time.perf_counter() - start
                opened, tab = measure(browser, report, args.repeats)
                rows.append((label, report.stat().st_size, built, opened, tab))
            browser.close()
    print("\n| report | size MB | build s | open s | pairs tab + filter s |\n|---|---|---|---|---|")
    for label, size, built, opened, tab in rows:
        print(f"| {label} | {size / 1e6:.2f} | {built:.2f} | {opened:.2f} | {tab:.2f} |")
    (_, size, _, opened, _), (_, full_size, _, full_open, _) = rows
    print(f"\ncomplete / default-limit: size x{full_size / size:.2f}, open time x{full_open / opened:.2f}")
    print(verdict(size < 10e6 and opened < 2.0, args.smoke))
    return 0


if __name__ == "__main__":
    sys.exit(main())
