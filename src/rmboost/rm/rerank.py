"""Best and worst of N responses by reward: West-of-N's selection rule, public, and the row kind of
`rmboost rerank` (a row holds a `prompt` and a list of `responses`).

The rule: the highest reward is the best and the lowest the worst, the earliest response winning
among equal rewards. `best_and_worst` is West-of-N's form of it (no pair when fewer than two
responses were scored or all rewards are equal); `extremes` always answers, for best-of-N.

A reranked row is the input row plus `rewards` (one per response), `best`, `worst`, their indices
and `margin` (best minus worst reward). With `pairs=True` it is a TRL preference row instead
(`prompt`, `chosen` = best, `rejected` = worst, `reward_chosen`, `reward_rejected`, `margin`), and a
row whose rewards are all equal makes none. A row is a prompt record: with `context` or `task` it is
scored on its laid-out input (`prompts/model_input.py`), which a pair keeps as its `prompt`, as
`rmboost generate` does; the record's own columns (`context`, `pairs`, `human`...) are not the
pair's. Scoring the rows (batches, files, resume) is `score_file.py`'s job; this module only reads
one row and writes one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rmboost.errors import InputError
from rmboost.prompts.model_input import row_input
from rmboost.records import Prompt, stable_id
from rmboost.rm.score_file import ScoreSummary, score_file
from rmboost.rm.scoring import FINGERPRINT_COLUMN, RowKind, parse_prompt, parse_text

# What a prompt row holds to be ranked (and the human labels `data --with-responses all` adds): not
# columns of the pair it makes, whose `prompt` is the model's input (the passages laid out in it).
PROMPT_ROW_FIELDS = ("prompt", "context", "responses", "pairs", "human", "response")


def extremes(scores: Sequence[float]) -> tuple[int, int]:
    """Indices of the highest and the lowest of `scores` (at least one), the earliest among equals."""
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    worst = min(range(len(scores)), key=lambda i: (scores[i], i))
    return best, worst


def best_and_worst(scores: Sequence[float | None]) -> tuple[int, int] | None:
    """Indices of the highest and the lowest score, the earliest among equals; None when fewer
    than two samples were scored or all scores are equal."""
    scored = [i for i, s in enumerate(scores) if s is not None]
    if len(scored) < 2:
        return None
    values = [float(scores[i]) for i in scored]  # type: ignore[arg-type]
    best, worst = extremes(values)
    return None if values[best] == values[worst] else (scored[best], scored[worst])


class RerankRows(RowKind):
    """Rows with `prompt` and `responses` (a non-empty list of strings, or of one-message assistant
    lists, as TRL's conversational format has them)."""

    name = "rerank"
    command = "rmboost rerank"

    def __init__(self, min_margin: float | None = None, pairs: bool = False) -> None:
        super().__init__(min_margin)
        self.pairs = pairs

    def parse(self, row: Any, source: str, line: int) -> tuple[Prompt, list[str]]:
        if not isinstance(row, dict):
            raise InputError(source, line, None, "expected a JSON object with 'prompt' and 'responses'")
        prompt = row_input(row, parse_prompt(row, source, line), source, line)
        responses = row.get("responses")
        if not isinstance(responses, list) or not responses:
            what = "is missing" if "responses" not in row else "must be a non-empty list"
            raise InputError(source, line, "responses", f"{what} (a list of the responses to rank)")
        return prompt, [parse_text(r, source, line, f"responses[{i}]") for i, r in enumerate(responses)]

    def finish(self, row: dict[str, Any], prompt: Prompt, rewards: list[float],
               fingerprint: str) -> dict[str, Any] | None:
        best, worst = extremes(rewards)
        margin = rewards[best] - rewards[worst]
        if not self.keeps(margin):
            return None
        texts = row["responses"]
        if not self.pairs:
            return {**row, "rewards": rewards, "best": texts[best], "worst": texts[worst], "best_index": best,
                    "worst_index": worst, "margin": margin, FINGERPRINT_COLUMN: fingerprint}
        if best_and_worst(rewards) is None:
            self.leave_out("all rewards equal: no pair")
            return None
        kept = {k: v for k, v in row.items() if k not in PROMPT_ROW_FIELDS}
        return {"prompt": prompt, "chosen": texts[best], "rejected": texts[worst],
                **kept, "id": str(row.get("id") or stable_id(prompt)), "method": "rerank",
                "reward_chosen": rewards[best], "reward_rejected": rewards[worst], "margin": margin,
                FINGERPRINT_COLUMN: fingerprint}

    def options(self) -> dict[str, Any]:
        return {**super().options(), "pairs": self.pairs}


def rerank_file(rm: str | Path, input: str | Path, output: str | Path, *, pairs: bool = False,
                min_margin: float | None = None, batch_size: int = 64, on_error: str = "raise",
                progress: bool = False) -> ScoreSummary:
    """Rank the `responses` of every row of `input` with the reward model saved in `rm`, into
    `output`; resumable and refused across models as `score_file` is."""
    return score_file(rm, input, output, RerankRows(min_margin, pairs), batch_size=batch_size, on_error=on_error,
                      progress=progress)
