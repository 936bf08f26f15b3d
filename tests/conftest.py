"""Shared test setup: no test writes to ~/.cache or reaches a hub."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
QA_FEEDBACK = SHARED_DATA / "qa_feedback" / "dev_feedback.json"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMBOOST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def write_jsonl(path: Path, rows: list) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def prompts_file(tmp_path: Path) -> Path:
    rows = [
        {"id": f"q{i}", "prompt": f"Question number {i}: who wrote the song?",
         "context": f"Passage {i}: the song was written by person {i}."}
        for i in range(20)
    ]
    return write_jsonl(tmp_path / "prompts.jsonl", rows)
