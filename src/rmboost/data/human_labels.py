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
Left out: what a pair row is (`trl_pairs.parse_row`, the rule `train` and `score` read pairs by:
explicit or implicit prompts; a pair whose two conversations differ before the last reply is left
out) and the loop over a file's rows (`row_loop.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rmboost.data.row_loop import parsed_rows
from rmboost.data.trl_pairs import parse_row
from rmboost.errors import InputError
from rmboost.io.prompts import parse_row as parse_prompt_row
from rmboost.io.rows import SkipCounter, require_rows
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

    @classmethod
    def parse(cls, row: Any, source: str, line: int) -> PairRow:
        """A pair row by `trl_pairs.parse_row`'s rule. A string `prompt` beside whole conversations
        (binarized UltraFeedback) stays the prompt: it is the text that names the question."""
        pair = parse_row(row, source, line)
        prompt = row["prompt"] if isinstance(row.get("prompt"), str) else pair.prompt
        return cls(line, prompt, pair.chosen, pair.rejected, row)

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


def read_pair_rows(path: str | Path, counter: SkipCounter | None = None) -> list[PairRow]:
    """Every pair of a pair file (JSONL, JSON list or Parquet), by `trl_pairs.parse_row`'s rule: a bad
    row raises or is skipped (`counter`), a pair left out by its rule is counted in `counter.left_out`."""
    require_rows(path, "pairs")
    return parsed_rows(path, PairRow.parse, counter)


class HumanLabels:
    """The human labels of one file, indexed by their two responses."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.by_texts: dict[frozenset[str], list[tuple[set[str], HumanLabel]]] = {}
        self.responses_of: dict[str, set[str]] = {}  # question key -> its responses, collapsed
        require_rows(path, "human labels")
        for labels in parsed_rows(path, self._labels):
            for keys, label in labels:
                self._add(keys, label)

    def _labels(self, row: Any, source: str, line: int) -> list[tuple[set[str], HumanLabel]]:
        """The labels of one row, each with the keys of its question: a prompt row's, or a pair row's one."""
        if isinstance(row, dict) and "responses" in row:
            return self._prompt_row_labels(row, source, line)
        pair = PairRow.parse(row, source, line)
        listed_first = pair.row.get("chosen_listed_first")
        tie = pair.row.get("tie") is True
        first, second = (pair.rejected, pair.chosen) if listed_first is False else (pair.chosen, pair.rejected)
        preferred = 0 if tie else (2 if listed_first is False else 1)
        question = str(pair.row.get("question_id") or prompt_key(pair.prompt))
        return [(pair.keys(), HumanLabel(question, first, second, preferred, isinstance(listed_first, bool)))]

    def _add(self, keys: set[str], label: HumanLabel) -> None:
        texts = frozenset((collapse(label.first), collapse(label.second)))
        self.by_texts.setdefault(texts, []).append((keys, label))
        for key in keys:
            self.responses_of.setdefault(key, set()).update(texts)

    @staticmethod
    def _prompt_row_labels(row: dict[str, Any], source: str, line: int) -> list[tuple[set[str], HumanLabel]]:
        record = parse_prompt_row(row, source, line)
        assert record.responses is not None
        pairs, human = record.given_pairs(), row.get("human")
        if not isinstance(human, list) or len(human) != len(pairs):
            raise InputError(source, line, "human", f"must be a list of {len(pairs)} labels, one per pair")
        keys = {f"id:{record.id}", f"prompt:{prompt_key(record.prompt)}"}
        out = []
        for k, ((i, j), label) in enumerate(zip(pairs, human, strict=True)):
            if label not in (0, 1, 2) or isinstance(label, bool):
                raise InputError(source, line, f"human[{k}]", f"must be 0 (a tie), 1 or 2, got {label!r}")
            out.append((keys, HumanLabel(record.id, record.responses[i], record.responses[j], label, True)))
        return out

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
