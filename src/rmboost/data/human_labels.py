"""Human labels on pairs of responses, and which of them a method's pair is about.

A human file is one of two kinds of row (the kind is decided row by row):
- a TRL pair (`rmboost data qa-feedback --as pairs`): the humans preferred `chosen` over `rejected`;
  `chosen_listed_first` (when present) says which of the two the source comparison listed first; a
  row with `tie: true` is a tie between its two responses. `--as pairs` drops ties, so against such
  a file a method's pair over a tied comparison matches no label.
- a prompt row with `responses`, `pairs` and `human` (`--as prompts --with-responses all`): label k
  of `human` is for pair k (1: its first response preferred, 2: the second, 0: a tie); here ties
  are known.

A method's pair is about a human label when both name the same question (the same `question_id`,
`id`, `id` before a `#k` suffix, or prompt text) and the same two responses (whitespace collapsed)
in either order. A pair that is about none is a `Miss` with the field that has no counterpart.
Reading a method's pair file (`read_pair_rows`) is here too: it keeps every column of a row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rmboost.errors import InputError
from rmboost.io.prompts import parse_row as parse_prompt_row
from rmboost.io.rows import read_rows, require_rows
from rmboost.records import Prompt


def collapse(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class PairRow:
    """One row of a pair file: its texts, and every column (`row`) for what a method recorded."""

    line: int
    prompt: Prompt
    chosen: str
    rejected: str
    row: dict[str, Any]

    def keys(self) -> set[str]:
        """What names its question: ids (`question_id`, `id`, `id` before `#k`) and the prompt."""
        found = {f"prompt:{prompt_key(self.prompt)}"}
        for name in ("question_id", "id"):
            value = self.row.get(name)
            if value is not None and str(value).strip():
                found |= {f"id:{value}", f"id:{str(value).rsplit('#', 1)[0]}"}
        return found


@dataclass(frozen=True, slots=True)
class HumanLabel:
    question: str  # the cluster the bootstrap resamples
    first: str  # the response the comparison lists first
    second: str
    preferred: int  # 1: first, 2: second, 0: tie
    listed_known: bool  # False when the file does not say which was listed first

    def texts(self) -> tuple[str, str] | None:
        """(preferred, other), or None for a tie."""
        return None if self.preferred == 0 else (
            (self.first, self.second) if self.preferred == 1 else (self.second, self.first))


@dataclass(frozen=True, slots=True)
class Miss:
    line: int
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


def prompt_key(prompt: Prompt) -> str:
    return collapse(prompt) if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def _text(value: Any, source: str, line: int, name: str) -> str:
    """A response: a non-empty string, or a list of messages whose last one holds it."""
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        value = value[-1].get("content")
    if not isinstance(value, str) or not value.strip():
        raise InputError(source, line, name, "must be a non-empty string or a list of messages")
    return value


def parse_pair_row(row: Any, source: str, line: int) -> PairRow:
    if not isinstance(row, dict):
        raise InputError(source, line, None, f"a pair row must be a JSON object, got {type(row).__name__}")
    prompt = row.get("prompt")
    if not (isinstance(prompt, str) and prompt.strip()) and not (isinstance(prompt, list) and prompt):
        raise InputError(source, line, "prompt", "must be a non-empty string or a list of messages")
    chosen, rejected = (_text(row.get(n), source, line, n) for n in ("chosen", "rejected"))
    return PairRow(line, prompt, chosen, rejected, row)


def read_pair_rows(path: str | Path) -> list[PairRow]:
    """Every row of a pair file (JSONL, JSON list or Parquet); the first bad one is an `InputError`."""
    require_rows(path, "pairs")
    return [parse_pair_row(row, str(path), line) for line, row in read_rows(path)]


class HumanLabels:
    """The human labels of one file, indexed by their two responses."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.by_texts: dict[frozenset[str], list[tuple[set[str], HumanLabel]]] = {}
        self.responses_of: dict[str, set[str]] = {}  # question key -> its responses, collapsed
        require_rows(path, "human labels")
        for line, row in read_rows(path):
            if isinstance(row, dict) and "responses" in row:
                self._add_prompt_row(row, line)
            else:
                self._add_pair_row(parse_pair_row(row, self.path, line))

    def _add(self, keys: set[str], label: HumanLabel) -> None:
        texts = frozenset((collapse(label.first), collapse(label.second)))
        self.by_texts.setdefault(texts, []).append((keys, label))
        for key in keys:
            self.responses_of.setdefault(key, set()).update(texts)

    def _add_pair_row(self, pair: PairRow) -> None:
        listed_first = pair.row.get("chosen_listed_first")
        tie = pair.row.get("tie") is True
        first, second = (pair.rejected, pair.chosen) if listed_first is False else (pair.chosen, pair.rejected)
        preferred = 0 if tie else (2 if listed_first is False else 1)
        question = str(pair.row.get("question_id") or prompt_key(pair.prompt))
        self._add(pair.keys(), HumanLabel(question, first, second, preferred, isinstance(listed_first, bool)))

    def _add_prompt_row(self, row: dict[str, Any], line: int) -> None:
        record = parse_prompt_row(row, self.path, line)
        assert record.responses is not None
        pairs, human = record.given_pairs(), row.get("human")
        if not isinstance(human, list) or len(human) != len(pairs):
            raise InputError(self.path, line, "human", f"must be a list of {len(pairs)} labels, one per pair")
        keys = {f"id:{record.id}", f"prompt:{prompt_key(record.prompt)}"}
        for k, ((i, j), label) in enumerate(zip(pairs, human, strict=True)):
            if label not in (0, 1, 2) or isinstance(label, bool):
                raise InputError(self.path, line, f"human[{k}]", f"must be 0 (a tie), 1 or 2, got {label!r}")
            self._add(keys, HumanLabel(record.id, record.responses[i], record.responses[j], label, True))

    def match(self, pair: PairRow) -> HumanLabel | Miss:
        """The human label `pair` is about, or why there is none."""
        keys = pair.keys()
        for label_keys, label in self.by_texts.get(frozenset((collapse(pair.chosen), collapse(pair.rejected))), []):
            if label_keys & keys:
                return label
        known = [self.responses_of[k] for k in keys if k in self.responses_of]
        if not known:
            return Miss(pair.line, "prompt", f"its question is not in {self.path}")
        texts = set().union(*known)
        for name, text in (("chosen", pair.chosen), ("rejected", pair.rejected)):
            if collapse(text) not in texts:
                return Miss(pair.line, name, f"is none of the responses {self.path} has for its question")
        return Miss(pair.line, "chosen", f"its two responses are no pair that {self.path} labels")
