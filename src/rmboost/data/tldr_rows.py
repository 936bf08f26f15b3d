"""One line of OpenAI's TL;DR comparison files (`comparisons/*.json`) read as a `Comparison`, or left
out by a rule and counted, or refused as malformed. Which files, the vote over repeats and the
splits are `tldr.py`'s.

The checks of a line, in order (each later check only runs when the earlier ones passed):

1. The line is a JSON object whose `split` is `train`, `valid1` or `valid2` (else malformed).
2. A line of a split not asked for is counted (`OTHER_SPLIT`) and not checked further, so a
   malformed line of another split is counted once, where its own split is read.
3. `info` is an object. A CNN/DM row (`info.article` and no `info.post`) is a news article, not a
   Reddit post: left out and counted (`CNNDM`) before any other check, since the official news
   files hold empty summaries.
4. A Reddit row needs a non-empty `info.post`, two summaries with a non-empty `text` and `choice`
   0 or 1. `info.id` absent, null or empty (the official evaluation files): the id is `text-` and
   a hash of the post's stripped text (`records.stable_id`), so the same post always gets the same
   id; counted in the notes (`NO_ID`). `subreddit` with or without `r/` is written `r/<name>` once;
   `title` and `subreddit` may be absent or null; `note`, `policy`, `worker`, `batch` are not needed.
5. Texts are stripped (policy samples start with a space; counted, `STRIPPED`).
6. `extra.confidence` (1-9, never 5 on the official files: 1-4 say summary 0 is better, 6-9 that
   summary 1 is, 1 and 9 the most strongly) gives the comparison's strength `|confidence - 5|`, 1
   to 4. `extra` absent or `{}`, or a confidence that is not a whole number 1-9 other than 5, or one
   on the other side from `choice`, gives no strength (each counted in the notes); it is not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rmboost.errors import InputError
from rmboost.io.row_kinds import expect_row
from rmboost.io.rows import SkipCounter
from rmboost.records import stable_id

SPLITS = ("train", "valid1", "valid2")
CNNDM = "CNN/DM article, not a Reddit post"
OTHER_SPLIT = "comparisons of a split not chosen"
STRIPPED = "summary texts with spaces around them (stripped)"
NO_ID = "Reddit comparisons without info.id (id from a hash of the post text)"
NO_CONFIDENCE = "Reddit comparisons without extra.confidence (no strength)"
BAD_CONFIDENCE = "extra.confidence not a whole number 1-9 other than 5 (no strength)"
AGAINST = "extra.confidence on the other side from choice (no strength)"


@dataclass(frozen=True, slots=True)
class Comparison:
    post_id: str
    split: str
    context: str  # "SUBREDDIT: r/...\nTITLE: ...\nPOST: ...", the TL;DR data set's query layout
    summaries: tuple[str, str]
    policies: tuple[str, str]
    choice: int
    source: str = ""  # the file the line is in
    strength: int | None = None  # |extra.confidence - 5|, 1-4; None without a usable confidence


def _text(value: Any, source: str, line: int, field: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(source, line, field, "must be a non-empty string" if required else "must be a string")
    return value


def _summaries(row: dict[str, Any], source: str, line: int) -> tuple[list[str], list[str]]:
    summaries = row.get("summaries")
    if not isinstance(summaries, list) or len(summaries) != 2:
        raise InputError(source, line, "summaries", "must be a list of two summaries")
    texts, policies = [], []
    for i, s in enumerate(summaries):
        if not isinstance(s, dict):
            raise InputError(source, line, f"summaries[{i}]", "must be an object with 'text'")
        texts.append(_text(s.get("text"), source, line, f"summaries[{i}].text"))
        policies.append(str(s.get("policy") or ""))
    return texts, policies


def _choice(row: dict[str, Any], source: str, line: int) -> int:
    if "choice" not in row:
        raise InputError(source, line, "choice", "is missing (the index of the preferred summary, 0 or 1)")
    choice = row["choice"]
    if isinstance(choice, bool) or choice not in (0, 1):
        raise InputError(source, line, "choice", f"must be 0 or 1 (an index of summaries), got {choice!r}")
    return int(choice)


def strength(extra: Any, choice: int) -> tuple[int | None, str]:
    """(|confidence - 5|, "") from a row's `extra`, or (None, the note saying why there is none)."""
    confidence = extra.get("confidence") if isinstance(extra, dict) else None
    if confidence is None:
        return None, NO_CONFIDENCE
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or confidence != int(confidence) \
            or not 1 <= confidence <= 9 or confidence == 5:
        return None, BAD_CONFIDENCE
    if (confidence > 5) != (choice == 1):
        return None, AGAINST
    return abs(int(confidence) - 5), ""


def _subreddit(value: Any, source: str, line: int) -> str:
    name = _text(value, source, line, "info.subreddit", False).strip()
    return "r/" + name.removeprefix("/").removeprefix("r/")


def _post_id(info: dict[str, Any], post: str, source: str, line: int) -> tuple[str, bool]:
    """(the post's id, whether it was made from the text because the row has none)."""
    given = info.get("id")
    if given is None or given == "":
        return "text-" + stable_id(post.strip()), True
    return _text(given, source, line, "info.id"), False


def _split(row: Any, source: str, line: int) -> str:
    if not isinstance(row, dict):
        raise InputError(source, line, None, "expected a JSON object")
    # A swapped file (pairs, prompts, another data set) is named as what it is, not as a bad field.
    expect_row(row, ("tldr", "unknown"), "rmboost data tldr", source, line)
    split = row.get("split")
    if split not in SPLITS:
        raise InputError(source, line, "split", f"must be one of {', '.join(SPLITS)}, got {split!r}")
    return str(split)


def read_line(row: Any, source: str, line: int, splits: tuple[str, ...], counter: SkipCounter,
              held: dict[str, int]) -> Comparison | None:
    """One line as a Reddit `Comparison`, or None when a rule leaves it out (counted in `counter`);
    `held` counts the line under its split. A malformed line raises `InputError`."""
    split = _split(row, source, line)
    held[split] = held.get(split, 0) + 1
    if split not in splits:
        counter.leave_out(OTHER_SPLIT)
        return None
    info = row.get("info")
    if not isinstance(info, dict):
        raise InputError(source, line, "info", "must be an object with id and post")
    if "post" not in info and "article" in info:
        counter.leave_out(CNNDM)
        return None
    body = _text(info.get("post"), source, line, "info.post")
    post_id, made_id = _post_id(info, body, source, line)
    header = f"SUBREDDIT: {_subreddit(info.get('subreddit'), source, line)}"
    title = _text(info.get("title"), source, line, "info.title", False)
    texts, policies = _summaries(row, source, line)
    choice = _choice(row, source, line)
    power, why = strength(row.get("extra"), choice)
    stripped = tuple(t.strip() for t in texts)
    counter.note(STRIPPED, sum(a != b for a, b in zip(texts, stripped, strict=True)))
    counter.note(NO_ID, int(made_id))
    if why:
        counter.note(why)
    context = f"{header}\nTITLE: {title.strip()}\nPOST: {body.strip()}"
    return Comparison(post_id, split, context, (stripped[0], stripped[1]), (policies[0], policies[1]), choice,
                      source, power)
