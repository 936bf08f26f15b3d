"""Inputs shared by the benchmarks: QA-Feedback prompt files of any size, and a one-line
description of the machine for the report.

Prompts are the QA-Feedback dev questions with their passages (shared/data/qa_feedback), cycled
with fresh ids when more are asked for than the file holds, so every benchmark works on the same
realistic prompt lengths. Left out: timing and reporting (each benchmark prints its own table).
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from rmboost.data.qa_feedback import load_questions, prompt_records

REPO = Path(__file__).resolve().parents[1]
QA_FEEDBACK = REPO.parent / "shared" / "data" / "qa_feedback" / "dev_feedback.json"


def qa_records(n: int) -> list[dict[str, Any]]:
    """`n` prompt records (question + passages), cycling the dev questions with unique ids."""
    base = prompt_records(load_questions(QA_FEEDBACK))
    return [{**base[i % len(base)], "id": f"{base[i % len(base)]['id']}-{i}"} for i in range(n)]


def write_prompts(path: Path, n: int, short: bool = False) -> Path:
    """Write `n` QA prompts as JSONL, streaming; `short` drops the passages (scale tests)."""
    base = prompt_records(load_questions(QA_FEEDBACK))
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            row = {**base[i % len(base)], "id": f"p{i}"}
            if short:
                row.pop("context", None)
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {load()}"
    )


def load() -> str:
    """The 1-minute load average: other work on a shared machine skews every absolute number."""
    return f"load average {os.getloadavg()[0]:.1f}"


def verdict(met: bool, smoke: bool) -> str:
    """The last line of every benchmark. A smoke run (tiny inputs, for CI) judges no target: its
    figures measure start-up and noise, not the steady state the targets are about."""
    if smoke:
        return "targets: not judged (smoke run; `make bench` judges them)"
    return "targets: " + ("met" if met else "MISSED (see docs/PERFORMANCE.md)")
