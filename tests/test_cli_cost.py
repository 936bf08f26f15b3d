"""Money, through the real CLI: `--price-in`/`--price-out` (USD per million tokens) or a YAML price
table by model (`--prices FILE`) turn the tokens of the calls sent into the cost in the summary and
the progress, with a projected total; calls answered from the cache cost nothing. The oracle is the
token counts each pair row carries in its `usage` column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.cli import main

PROGRESS = re.compile(r"^generate: (\d+)/(\d+) prompts .*cost=\$([\d.]+), projected=\$([\d.]+)")


@pytest.fixture
def inp(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "prompt": f"question {i}?"} for i in range(8)])


def run(capsys: pytest.CaptureFixture[str], inp: Path, out: Path, *extra: str) -> tuple[dict, str]:
    capsys.readouterr()
    assert main(["generate", "--input", str(inp), "--output", str(out), "--backend", "fake", *extra]) == 0
    return json.loads(out.with_suffix(".summary.json").read_text()), capsys.readouterr().err


def usage_cost(rows: list[dict], price_in: float, price_out: float) -> float:
    return sum(r["usage"]["prompt_tokens"] * price_in + r["usage"]["completion_tokens"] * price_out
               for r in rows) / 1e6


def test_the_summary_shows_the_money_spent_and_cached_calls_cost_nothing(
        inp: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary, err = run(capsys, inp, tmp_path / "a.jsonl", "--quiet", "--price-in", "1.5", "--price-out", "4")
    expected = usage_cost(read_jsonl(tmp_path / "a.jsonl"), 1.5, 4)
    assert expected > 0 and summary["cost_usd"] == pytest.approx(expected)
    assert summary["projected_cost_usd"] == pytest.approx(expected)  # the run finished: nothing is left
    assert f"cost: ${expected:.4f} for 16 calls sent" in err
    again, err = run(capsys, inp, tmp_path / "b.jsonl", "--quiet", "--price-in", "1.5", "--price-out", "4")
    assert again["calls_sent"] == 0 and again["cache_hits"] == 16 and again["cost_usd"] == 0.0
    assert "cost: $0.0000 for 0 calls sent" in err and "the 16 answered from the cache cost nothing" in err


def test_a_price_table_is_looked_up_by_the_model(inp: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "prices.yaml"
    table.write_text("gpt-x: {in: 9, out: 9}\nfake: {in: 2}\n")
    summary, _ = run(capsys, inp, tmp_path / "a.jsonl", "--quiet", "--prices", str(table))
    rows = read_jsonl(tmp_path / "a.jsonl")
    assert summary["cost_usd"] == pytest.approx(usage_cost(rows, 2, 0))
    table.write_text("gpt-x: {in: 9, out: 9}\n")
    code = main(["generate", "--input", str(inp), "--output", str(tmp_path / "c.jsonl"), "--backend", "fake",
                 "--quiet", "--prices", str(table)])
    err = capsys.readouterr().err
    assert code == 2 and f"{table}: no price for model 'fake'; it lists gpt-x" in err


def test_the_progress_projects_the_total_from_the_rate_so_far(inp: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    _, err = run(capsys, inp, tmp_path / "a.jsonl", "--progress-every", "0", "--price-in", "1000",
                 "--price-out", "1000")
    seen = [m for line in err.splitlines() if (m := PROGRESS.match(line))]
    assert len(seen) >= 8
    for m in seen:
        done, total, spent, projected = int(m.group(1)), int(m.group(2)), float(m.group(3)), float(m.group(4))
        assert total == 8 and projected == pytest.approx(spent * total / done, abs=1e-4 * total)
    assert float(seen[-1].group(3)) == pytest.approx(usage_cost(read_jsonl(tmp_path / "a.jsonl"), 1000, 1000),
                                                     abs=1e-4)


def test_without_prices_there_is_no_cost(inp: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary, err = run(capsys, inp, tmp_path / "a.jsonl", "--progress-every", "0")
    assert summary["cost_usd"] is None and "cost" not in err
