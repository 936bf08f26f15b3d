"""What `rmboost score` reads from a row and writes back, and the fingerprint of a saved reward model.

Two row kinds: (prompt, response) rows get a `reward`; pair rows (TRL's `prompt`, `chosen`,
`rejected`, the format `rmboost generate` writes) get `reward_chosen`, `reward_rejected` and
`margin`, and `min_margin` keeps only the pairs whose margin reaches it. Every scored row also names
the model in `rm_fingerprint`: a digest of the model directory's files, so rewards of two models
are never mistaken for one another (`score_file.py` refuses to mix them in one output). A prompt is
a string or a list of `{role, content}` messages; a response a string or a one-message assistant
list. A (prompt, response) row with `context` or `task` (a prompt record) is scored on the input
the model was trained on: laid out as generation shows it to the policy (`prompts/model_input.py`).
A pair row is read by the rule every reader of pairs shares (`data.trl_pairs.parse_row`). The
rerank kind is `rerank.py`; batches, files and resume are `score_file.py`'s.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rmboost.data.trl_pairs import parse_row
from rmboost.errors import InputError, UserError
from rmboost.io.row_kinds import PAIRS
from rmboost.prompts.model_input import row_input
from rmboost.records import Prompt
from rmboost.rm.base import saved_meta

FINGERPRINT_COLUMN = "rm_fingerprint"


def model_fingerprint(directory: str | Path) -> str:
    """A digest of every file of a saved reward model (names and bytes): two models that could
    score differently never share one. A directory that is not a saved model is a `UserError`."""
    d = Path(directory)
    saved_meta(d)
    h = hashlib.sha256()
    for path in sorted(p for p in d.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(d)).encode("utf-8") + b"\0" + str(path.stat().st_size).encode() + b"\0")
        try:
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError as e:
            raise UserError(f"{path}: cannot read this reward model file: {e.strerror or e}") from e
    return h.hexdigest()[:16]


def parse_prompt(row: dict[str, Any], source: str, line: int) -> Prompt:
    prompt = row.get("prompt")
    if isinstance(prompt, str):
        if not prompt.strip():
            raise InputError(source, line, "prompt", "is empty")
        return prompt
    if isinstance(prompt, list) and prompt and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in prompt
    ):
        return [{"role": m["role"], "content": m["content"]} for m in prompt]
    what = "is missing" if "prompt" not in row else "must be a string or a list of {role, content} messages"
    raise InputError(source, line, "prompt", what)


def parse_text(value: Any, source: str, line: int, name: str) -> str:
    """A response: a string, or a list holding one assistant message (TRL's conversational form)."""
    if isinstance(value, str):
        return value
    if (isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)
            and value[0].get("role") == "assistant" and isinstance(value[0].get("content"), str)):
        return str(value[0]["content"])
    raise InputError(source, line, name, "must be a string or a list holding one assistant message")


class RowKind:
    """One kind of row to score: which responses of a row get a reward, and the row written back
    (None: the row is left out, counted in `left_out` by reason)."""

    name = "rows"
    command = "rmboost score"
    reads: tuple[str, ...] = ("prompts",)  # the kinds of file (`io/row_kinds.py`) its rows come in

    def __init__(self, min_margin: float | None = None) -> None:
        self.min_margin = min_margin
        self.left_out: dict[str, int] = {}

    def parse(self, row: Any, source: str, line: int) -> tuple[Prompt, list[str]]:
        raise NotImplementedError

    def finish(self, row: dict[str, Any], prompt: Prompt, rewards: list[float],
               fingerprint: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def leave_out(self, reason: str) -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + 1

    def keeps(self, margin: float) -> bool:
        if self.min_margin is not None and margin < self.min_margin:
            self.leave_out(f"margin below {self.min_margin:g}")
            return False
        return True

    def options(self) -> dict[str, Any]:
        """What changes the rows written, besides the model and the input (part of the settings)."""
        # `prompt_layout`: rows scored before a prompt row's context was laid out as in training
        # (`prompts/model_input.py`) are not resumed into, and not mixed with, rows scored after.
        return {"command": self.command, "kind": self.name, "min_margin": self.min_margin,
                "prompt_layout": "model_input"}


class ResponseRows(RowKind):
    """(prompt, response) rows; the written row adds `reward`."""

    name = "responses"

    def parse(self, row: Any, source: str, line: int) -> tuple[Prompt, list[str]]:
        if not isinstance(row, dict):
            raise InputError(source, line, None, "expected a JSON object with 'prompt' and 'response'")
        prompt = row_input(row, parse_prompt(row, source, line), source, line)
        if "response" not in row:
            raise InputError(source, line, "response", "is missing (score needs prompt and response, or a pair: "
                             "prompt, chosen and rejected)")
        return prompt, [parse_text(row["response"], source, line, "response")]

    def finish(self, row: dict[str, Any], prompt: Prompt, rewards: list[float],
               fingerprint: str) -> dict[str, Any] | None:
        return {**row, "reward": rewards[0], FINGERPRINT_COLUMN: fingerprint}


class PairRows(RowKind):
    """TRL pair rows (explicit or implicit prompt, standard or conversational, as `rmboost train`
    reads them); the written row adds `reward_chosen`, `reward_rejected` and `margin`."""

    name = "pairs"
    reads = PAIRS

    def parse(self, row: Any, source: str, line: int) -> tuple[Prompt, list[str]]:
        pair = parse_row(row, source, line)  # `LeftOut` for a pair its rule leaves out
        return pair.prompt, [pair.chosen, pair.rejected]

    def finish(self, row: dict[str, Any], prompt: Prompt, rewards: list[float],
               fingerprint: str) -> dict[str, Any] | None:
        margin = rewards[0] - rewards[1]
        if not self.keeps(margin):
            return None
        return {**row, "reward_chosen": rewards[0], "reward_rejected": rewards[1], "margin": margin,
                FINGERPRINT_COLUMN: fingerprint}


def kind_of_rows(first_row: Any, min_margin: float | None) -> RowKind:
    """Pairs when the first row has `chosen` or `rejected`, else (prompt, response) rows."""
    if isinstance(first_row, dict) and ("chosen" in first_row or "rejected" in first_row):
        return PairRows(min_margin)
    return ResponseRows(min_margin)
