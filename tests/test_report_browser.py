"""The report page in a real browser: headless Chromium from Debian (`/usr/bin/chromium`, which
`make setup` installs with apt-get), driven by Playwright, opening reports from file:// URLs.

Oracles: the pairs files themselves (row counts, which ids a filter must leave), a Python
longest-common-subsequence for the word diff, and a dialog handler for script that must not run.
Screenshots go to `test-artifacts/` (gitignored)."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, read_jsonl, write_jsonl
from rmboost.report import write_report
from test_report_data import HOSTILE, big_sets, embedded, make_experiment, pair

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps"]


def _need_browser() -> None:
    """The Makefile's rule: only where apt-get cannot run (none, or neither root nor sudo) is the
    browser's absence a skip; anywhere else `make browser` installs it, so its absence is a failure."""
    if CHROMIUM.exists():
        return
    if shutil.which("apt-get") is None:
        pytest.skip("no /usr/bin/chromium and no apt-get to install it: the report's browser tests cannot run here")
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        pytest.skip("no /usr/bin/chromium, and apt-get needs root or sudo: the report's browser tests cannot run here")
    pytest.fail("/usr/bin/chromium is missing: `make browser` installs it (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[dev]' (never `playwright install`)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Opened:
    """A report open in a page, with what the page said and asked for while it was open."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1366, "height": 900})
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def tab(self, name: str) -> None:
        self.page.click(f"nav.tabs button[data-tab={name}]")

    def ids(self, selector: str = "#pair-list .pair") -> list[str]:
        return self.page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.id)")

    def settled(self) -> None:
        """Wait until both lists have applied their filters (they do after a short debounce)."""
        for count in ("#pair-count", "#failure-count"):
            self.page.wait_for_selector(f"{count}[data-state=ready]", state="attached")

    def filter(self, select: str, value: str) -> None:
        self.page.select_option(select, value)
        self.settled()

    def search(self, field: str, words: str) -> None:
        self.page.fill(field, words)
        self.settled()

    def problems(self) -> list[str]:
        return [m for m in self.console if m.startswith(("error", "pageerror"))]

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def opened(browser: Any) -> Iterator[Any]:
    pages: list[Opened] = []

    def open_(path: Path) -> Opened:
        pages.append(Opened(browser, path))
        return pages[-1]

    yield open_
    for p in pages:
        p.close()


def test_row_count_matches_a_generated_pairs_file(tmp_path: Path, prompts_file: Path, opened) -> None:
    out = tmp_path / "pairs.jsonl"
    # A subprocess, as a user runs it: Playwright's sync API keeps an event loop running in this one.
    subprocess.run([sys.executable, "-m", "rmboost.cli", "generate", "--backend", "fake", "--method", "rmboost",
                    "--input", str(prompts_file), "--output", str(out), "--no-progress"], check=True,
                   capture_output=True)
    rows = read_jsonl(out)
    r = opened(write_report(out))
    r.tab("pairs")
    assert r.page.get_attribute("#pair-count", "data-count") == str(len(rows)) == "20"
    assert r.ids() == [row["id"] for row in rows]
    assert r.problems() == [] and r.requests == [r.url]  # nothing loaded but the file itself


def test_filters_and_search_leave_the_expected_ids(tmp_path: Path, opened) -> None:
    rows = [pair(i, label="BETTER" if i % 2 == 0 else "WORSE", aspects=[["relevance"], ["coherence"], []][i % 3])
            for i in range(12)] + [pair(i, "rlaif", None, []) for i in range(4)]
    rows[5]["chosen"] = "A unique zebra answer."
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    reasons = ["identical to y1", "empty"]
    write_jsonl(tmp_path / "p.failures.jsonl",
                [{"id": f"f{i}", "stage": "y2", "reason": reasons[i % 2], "method": "rmboost"} for i in range(5)])
    r = opened(write_report(path))
    r.tab("pairs")
    r.filter("#f-label", "WORSE")
    assert r.ids() == [row["id"] for row in rows if row["label"] == "WORSE"]
    r.filter("#f-aspect", "coherence")
    assert r.ids() == [row["id"] for row in rows if row["label"] == "WORSE" and "coherence" in row["aspects"]]
    assert r.page.get_attribute("#pair-count", "data-count") == "2"
    r.page.click("#pair-filters button[type=reset]")
    r.settled()
    r.filter("#f-method", "rlaif")
    assert r.ids() == [f"rlaif-{i}" for i in range(4)]
    r.filter("#f-method", "")
    r.search("#f-search", "ZEBRA")
    assert r.ids() == ["rmboost-5"]
    r.tab("failures")
    r.filter("#ff-reason", "empty")
    assert r.ids("#failure-list .failure") == ["f1", "f3"]
    assert r.problems() == []


def lcs(a: list[str], b: list[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    return table[0][0]


MARKS = """(id) => {
  const card = document.querySelector(`#pair-list .pair[data-id="${id}"]`);
  const side = (cls) => {
    const el = card.querySelector(`.side.${cls} .text`);
    const kept = [];
    el.childNodes.forEach((n) => { if (n.nodeType === 3) kept.push(n.textContent); });
    return {text: el.textContent, del: [...el.querySelectorAll("del")].map((d) => d.textContent.trim()),
            ins: [...el.querySelectorAll("ins")].map((d) => d.textContent.trim()), kept: kept.join(" ")};
  };
  return {chosen: side("chosen"), rejected: side("rejected")};
}"""


def test_the_diff_marks_what_the_rewrite_deleted_and_inserted(tmp_path: Path, opened) -> None:
    y1, y2 = "The cat sat on the mat.", "The dog sat on the red mat."
    rng = random.Random(0)
    vocab = "a b c d e f g h".split()
    randoms = []
    for i in range(8):
        first = [rng.choice(vocab) for _ in range(rng.randint(0, 25))]
        second = [w for w in first if rng.random() > 0.3] + [rng.choice(vocab) for _ in range(rng.randint(0, 5))]
        rng.shuffle(second) if i % 3 == 0 else None
        randoms.append(pair(100 + i, label="BETTER", chosen=" ".join(second), rejected=" ".join(first)))
    rows = [pair(0, label="BETTER", chosen=y2, rejected=y1), pair(1, label="WORSE", chosen=y1, rejected=y2),
            pair(2, "rlaif", None, chosen=y2, rejected=y1), *randoms]
    r = opened(write_report(write_jsonl(tmp_path / "p.jsonl", rows)))
    r.tab("pairs")
    better = r.page.evaluate(MARKS, "rmboost-0")  # y1 is the rejected side, y2 the chosen one
    assert better["rejected"]["del"] == ["cat"] and better["rejected"]["ins"] == []
    assert better["chosen"]["ins"] == ["dog", "red"] and better["chosen"]["del"] == []
    assert (better["chosen"]["text"], better["rejected"]["text"]) == (y2, y1)  # the texts are whole
    worse = r.page.evaluate(MARKS, "rmboost-1")  # y1 is the chosen side
    assert worse["chosen"]["del"] == ["cat"] and worse["rejected"]["ins"] == ["dog", "red"]
    plain = r.page.evaluate(MARKS, "rlaif-2")  # not an edit: no marks
    assert plain["chosen"]["ins"] == plain["rejected"]["del"] == []
    for row in randoms:
        m = r.page.evaluate(MARKS, row["id"])
        a, b = row["rejected"].split(), row["chosen"].split()
        kept_a, kept_b = m["rejected"]["kept"].split(), m["chosen"]["kept"].split()
        assert kept_a == kept_b and len(kept_a) == lcs(a, b)  # what is unmarked is a longest common part
        assert m["rejected"]["text"].split() == a and m["chosen"]["text"].split() == b
    assert r.problems() == []


def test_experiment_report_renders_without_console_errors_and_is_screenshotted(tmp_path: Path, opened) -> None:
    rows = [{"a": "oracle-rewrite", "b": "oracle-rewrite-flipped", "rm": "embed-linear", "difference": 0.2,
             "ci_low": 0.1, "ci_high": 0.3}]
    controls = {"pairs": 40, "verdicts": [{"rm": "embed-linear", "yardstick": "human-pairs", "rows": rows,
                                           "verdict": "the yardstick sees the known-good data"}]}
    r = opened(write_report(make_experiment(tmp_path, controls=controls)))
    page = r.page
    assert page.locator("h2", has_text="Controls").is_visible()
    assert page.get_by_text("the yardstick sees the known-good data", exact=True).is_visible()
    assert page.get_by_text("Calibration: what each reward model can see").is_visible()
    assert page.get_by_text("Which training data is better").first.is_visible()
    assert page.locator("svg[aria-label='accuracy against the share of flipped labels']").is_visible()
    assert page.locator("svg.chart").count() == 5  # accuracy, differences, length, failures, aspects
    width = page.evaluate("document.querySelector('svg.chart').getBoundingClientRect().width")
    assert 600 < width <= 1366  # readable at a laptop's width, no wider than the window
    ARTIFACTS.mkdir(exist_ok=True)
    shots = []
    for tab in ("overview", "pairs", "failures"):
        r.tab(tab)
        shots.append(ARTIFACTS / f"report-experiment-{tab}.png")
        page.screenshot(path=str(shots[-1]), full_page=tab == "overview")
    assert all(s.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for s in shots)
    failure = page.locator('#failure-list .failure[data-id="q3"]')
    assert "attempts: 3" in failure.inner_text() and "who wrote song 3?" in failure.locator(".raw").inner_text()
    assert r.problems() == [] and r.requests == [r.url]


def test_markup_and_script_in_the_data_are_shown_as_text_never_run(tmp_path: Path, opened) -> None:
    rows = [pair(0, HOSTILE, "BETTER", [HOSTILE], chosen=HOSTILE + " better", rejected=HOSTILE, prompt=HOSTILE),
            {**pair(1), "id": HOSTILE}]
    path = write_jsonl(tmp_path / "<img src=x onerror=alert(3)>.jsonl", rows)
    write_jsonl(tmp_path / "<img src=x onerror=alert(3)>.failures.jsonl",
                [{"id": HOSTILE, "stage": HOSTILE, "reason": HOSTILE, "detail": {"raw": HOSTILE, "x": HOSTILE}}])
    r = opened(write_report(path, tmp_path / "r.html"))
    r.tab("pairs")
    r.page.click("#pair-list .pair details.prompt summary")
    assert r.page.locator("#pair-list .pair").first.get_by_text(HOSTILE + " better").is_visible()
    r.filter("#f-aspect", HOSTILE)  # the text works as a filter value too
    assert r.ids() == [rows[0]["id"]]
    r.tab("failures")
    assert r.page.locator("#failure-list .raw pre").inner_text() == HOSTILE
    r.page.wait_for_timeout(200)  # room for a deferred handler (an <img onerror>) to fire, if one ran
    assert r.dialogs == []
    assert r.page.locator("main img, main script").count() == 0
    assert r.problems() == [] and r.requests == [r.url]


def test_a_sampled_report_says_so_and_pages_through_its_rows(tmp_path: Path, opened) -> None:
    report = write_report(big_sets(tmp_path), tmp_path / "r.html", max_bytes=250_000)
    data = embedded(report.read_text())
    r = opened(report)
    assert r.page.locator("#notes .banner", has_text="This report holds a sample").is_visible()
    r.tab("pairs")
    shown = [p["id"] for p in data["pairs"]]
    assert 50 < len(shown) < 420 and r.page.get_attribute("#pair-count", "data-count") == str(len(shown))
    assert r.ids() == shown[:50]
    r.page.click("#pair-pager button:has-text('next')")
    assert r.ids() == shown[50:100]
    assert r.problems() == []


def test_the_benchmark_runs_on_a_tiny_folder() -> None:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_report.py"), "--smoke"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^\| default limit \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$", done.stdout, re.M), done.stdout
    assert done.stdout.rstrip().splitlines()[-1] == "targets: not judged (smoke run; `make bench` judges them)"
