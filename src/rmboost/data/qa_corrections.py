"""QA-Feedback's human corrections as known-good preference pairs (the experiment's controls).

For most questions an annotator rewrote `prediction 1` (`feedback.corrected-prediction`), fixing
the error spans typed in `feedback.errors` and adding what `feedback.missing-info` lists. The pair
is chosen = the corrected text, rejected = `prediction 1`, label BETTER, method `oracle-rewrite`:
the pair RMBoost would make with a perfect rewriter. Its aspects are the qa task's aspects that the
error types name (`ERROR_ASPECTS`):

| error type (FineGrainedRLHF) | qa aspect |
| --- | --- |
| Irrelevant | relevance |
| Unverifiable (not supported by the passages) | faithfulness |
| Wrong-Grounding (contradicts the passages) | correctness |
| Redundant, Incoherent | coherence |
| Missing-Answer, Missing-Major-Auxiliary, Missing-Minor-Auxiliary | completeness |

A question without a correction (absent or empty), or whose correction equals `prediction 1` once
whitespace is collapsed, makes no pair: it is counted in the counter's `left_out` under `NO_CORRECTION`
or `UNCHANGED`. A `feedback` field of the wrong shape, or an error type not in the table, is an
`InputError` naming the file, the question's index and the field. The preference labels are
`qa_feedback.py`'s; this module reads only `feedback`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rmboost.data.qa_feedback import Split, parse_question, split_of
from rmboost.data.row_loop import LeftOut, parsed_rows
from rmboost.errors import InputError
from rmboost.io.rows import SkipCounter, write_rows
from rmboost.prompts.tasks import load_task
from rmboost.records import Pair

METHOD = "oracle-rewrite"
NO_CORRECTION = "no corrected-prediction"
UNCHANGED = "corrected-prediction equals prediction 1"
ERROR_ASPECTS = {
    "Irrelevant": "relevance",
    "Unverifiable": "faithfulness",
    "Wrong-Grounding": "correctness",
    "Redundant": "coherence",
    "Incoherent": "coherence",
    "Missing-Answer": "completeness",
    "Missing-Major-Auxiliary": "completeness",
    "Missing-Minor-Auxiliary": "completeness",
}


def _error_types(feedback: dict[str, Any], name: str, source: str, line: int) -> list[str]:
    spans = feedback.get(name, [])
    if not isinstance(spans, list):
        raise InputError(source, line, f"feedback.{name}", "must be a list")
    types = []
    for i, span in enumerate(spans):
        where = f"feedback.{name}[{i}].error type"
        kind = span.get("error type") if isinstance(span, dict) else None
        if not isinstance(kind, str):
            raise InputError(source, line, where, "must be a string")
        if kind not in ERROR_ASPECTS:
            raise InputError(source, line, where, f"unknown error type {kind!r}; known: {', '.join(ERROR_ASPECTS)}")
        types.append(kind)
    return types


def correction_of(row: dict[str, Any], source: str, line: int) -> tuple[str, list[str]] | str:
    """(corrected text, aspects) of a question row, or the reason it has no usable correction."""
    feedback = row.get("feedback")
    if feedback is None:
        return NO_CORRECTION
    if not isinstance(feedback, dict):
        raise InputError(source, line, "feedback", "must be an object")
    corrected = feedback.get("corrected-prediction")
    if corrected is not None and not isinstance(corrected, str):
        raise InputError(source, line, "feedback.corrected-prediction", "must be a string")
    types = _error_types(feedback, "errors", source, line) + _error_types(feedback, "missing-info", source, line)
    if not corrected or not corrected.strip():
        return NO_CORRECTION
    if " ".join(corrected.split()) == " ".join(str(row.get("prediction 1", "")).split()):
        return UNCHANGED
    named = {ERROR_ASPECTS[t] for t in types}
    aspects = [a.name for a in load_task("qa").aspects if a.name in named]
    return corrected.strip(), aspects


def load_corrections(path: str | Path, split: Split = "all", counter: SkipCounter | None = None) -> list[Pair]:
    """The (corrected, prediction 1) pairs of the questions of `split`, in file order."""
    task = load_task("qa")

    def correction_pair(row: Any, source: str, line: int) -> Pair | None:
        q = parse_question(row, source, line)
        found = correction_of(row, source, line)
        if split != "all" and split_of(q.question) != split:
            return None
        if isinstance(found, str):
            raise LeftOut(found)
        corrected, aspects = found
        return Pair(id=f"{q.id}:correction", prompt=task.render_user(q.question, q.context),
                    chosen=corrected, rejected=q.predictions[0], method=METHOD, label="BETTER",
                    aspects=aspects, task="qa", extra={"question_id": q.id})

    return parsed_rows(path, correction_pair, counter)


def flipped(pairs: list[Pair]) -> list[Pair]:
    """The same pairs with chosen and rejected swapped (label WORSE): the control a yardstick must
    tell apart from the corrections."""
    return [Pair(id=p.id, prompt=p.prompt, chosen=p.rejected, rejected=p.chosen, method=f"{METHOD}-flipped",
                 label="WORSE", aspects=list(p.aspects), task=p.task, extra=dict(p.extra)) for p in pairs]


def export_corrections(
    path: str | Path, output: str | Path, split: Split = "all", fmt: str | None = None,
    counter: SkipCounter | None = None,
) -> int:
    """Write the corrections' pairs of `split` as TRL rows (JSONL, or Parquet); return the count."""
    return write_rows(output, [p.to_dict() for p in load_corrections(path, split, counter)], fmt)
