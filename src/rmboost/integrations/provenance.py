"""What made a pair file, read from the files beside it: `<stem>.settings.json` (method, model,
backend, template, aspects, the settings fingerprint), `<stem>.summary.json` (the last run's
yield, tokens and cost), `<stem>.failures.jsonl` (failures by stage and reason) and the rows
themselves (labels, aspects drawn). A file scored by `rmboost score` names its input: the
generation facts are then the input's, and the scoring facts are added.

`rmboost generate` does not record its command line, so `command` is the equivalent command rebuilt
from the settings file: every setting that is not the default, as its flag (the prompt file is
named only when a failure row records it). A missing side file leaves its facts out (None), never
guessed. Rendering the facts is `dataset_card.py`'s job.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rmboost.errors import InputError, UserError
from rmboost.generation.config import ROW_SETTINGS, GenerateConfig
from rmboost.generation.summary import RunSummary
from rmboost.io.output import output_paths, read_output_rows, read_settings
from rmboost.io.rows import read_rows

# Settings that hold a file's digest, not the option's value; the file's name is in `files`.
DIGEST_SETTINGS = ("aspects", "template", "scorer", "judge_template")
USAGE_KEYS = ("calls", "cached_calls", "prompt_tokens", "completion_tokens")


@dataclass
class Provenance:
    pairs_file: str
    rows: int
    settings: dict[str, Any] | None = None  # the settings file's `settings`
    fingerprint: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: RunSummary | None = None
    failures: dict[str, int] | None = None  # "stage: reason" -> count; None: no failures file
    retryable_failures: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    aspects: dict[str, int] = field(default_factory=dict)
    scoring: dict[str, Any] | None = None  # the settings of `rmboost score`, for a scored file
    command: str | None = None
    methods: dict[str, int] = field(default_factory=dict)  # the rows' `method` -> count
    # The rows' own `usage` summed (calls, cached_calls, prompt_tokens, completion_tokens): what every
    # pair in the file took, whichever run made it; empty when no row records it.
    row_usage: dict[str, int] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """Whether the pairs were made by a model (a generation run, a method's rows), not by people."""
        return self.settings is not None or any(m and m != "human" for m in self.methods)

    def setting(self, name: str) -> Any:
        return (self.settings or {}).get(name)

    @property
    def prompts(self) -> int | None:
        """Prompts the pairs were made from (the last run's valid input rows), when recorded."""
        return self.summary.prompts_total if self.summary is not None else None

    @property
    def yield_rate(self) -> float | None:
        """Pairs in the file per pair asked for (prompts x pairs per prompt)."""
        asked = (self.prompts or 0) * int(self.setting("pairs_per_prompt") or 1)
        return self.rows / asked if asked else None


def read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: cannot read this run summary: {e}") from e
    return data if isinstance(data, dict) else None


def count_rows(path: Path, facts: Provenance) -> None:
    labels: Counter[str] = Counter()
    aspects: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    usage: Counter[str] = Counter()
    for line, row in read_rows(path):
        if not isinstance(row, dict):
            raise InputError(str(path), line, None, "expected a JSON object (a preference pair)")
        facts.rows += 1
        if row.get("label"):
            labels[str(row["label"])] += 1
        methods[str(row.get("method") or "")] += 1
        aspects.update(str(a) for a in row.get("aspects") or [] if isinstance(row.get("aspects"), list))
        if isinstance(row.get("usage"), dict):
            usage.update({k: int(v) for k, v in row["usage"].items() if k in USAGE_KEYS and isinstance(v, int)})
    facts.labels, facts.aspects, facts.methods = dict(labels), dict(aspects.most_common()), dict(methods)
    facts.row_usage = {k: usage[k] for k in USAGE_KEYS} if usage else {}


def count_failures(path: Path, facts: Provenance) -> str | None:
    """Failures by `stage: reason`; returns the prompt file a failure row names, if any."""
    if not path.exists():
        return None
    reasons: Counter[str] = Counter()
    source = None
    for _, row in read_output_rows(path):
        reasons[f"{row.get('stage', '?')}: {row.get('reason', '?')}"] += 1
        facts.retryable_failures += bool(row.get("retryable"))
        source = source or row.get("source") or None
    facts.failures = dict(reasons.most_common())
    return str(source) if source else None


def equivalent_command(settings: dict[str, Any], files: dict[str, str], output: str, prompts: str | None,
                       limit: int | None = None) -> str:
    """`rmboost generate ...` with every recorded setting that is not the default, and the last
    run's `--limit` (from its summary)."""
    words = ["rmboost", "generate", "--input", prompts or "PROMPTS", "--output", output]
    if limit is not None:
        words += ["--limit", str(limit)]
    defaults = {f.name: f.default for f in dataclasses.fields(GenerateConfig)}
    for name in ROW_SETTINGS:
        value = files.get(name) if name in DIGEST_SETTINGS else settings.get(name)
        if name not in settings or value is None or value == defaults.get(name):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        else:
            words += [flag, str(value)]
    for key, value in sorted((settings.get("backend_options") or {}).items()):
        words += ["--backend-arg", f"{key}={value}"]
    return shlex.join(words)


def read_provenance(pairs_file: str | Path) -> Provenance:
    """The facts about `pairs_file` its side files and rows hold (a scored file: its input's too)."""
    path = Path(pairs_file)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    facts = Provenance(str(path), 0)
    count_rows(path, facts)
    paths = output_paths(path, "parquet" if path.suffix in (".parquet", ".pq") else "jsonl")
    saved = read_settings(paths["settings"])
    settings = saved["settings"] if saved else None
    if settings is not None and str(settings.get("command", "")).startswith("rmboost "):
        facts.scoring = settings
        source = Path(str(settings.get("input", "")))
        paths = output_paths(source, "parquet" if source.suffix in (".parquet", ".pq") else "jsonl")
        saved = read_settings(paths["settings"]) if source.name else None
    if saved is not None:
        facts.settings, facts.fingerprint = saved["settings"], str(saved["hash"])
        facts.files, facts.history = dict(saved.get("files") or {}), list(saved.get("history") or [])
    summary = read_json(paths["summary"])
    facts.summary = RunSummary.from_dict(summary) if summary else None
    prompts = count_failures(paths["failures"], facts)
    if facts.summary is not None and facts.summary.input:
        prompts = facts.summary.input
    if facts.settings is not None:
        limit = facts.summary.limit if facts.summary is not None else None
        facts.command = equivalent_command(facts.settings, facts.files, str(paths["output"]), prompts, limit)
    return facts
