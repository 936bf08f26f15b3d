"""The dataset card (README.md) of an exported pair file: the Hugging Face Hub's YAML header
(license, task_categories, tags, size_categories, configs) and a body that states how the pairs
were made (method, model, backend, task, template, aspects, the settings fingerprint, the command),
what came out (yield, labels, failures by stage and reason), what it cost (the last run's calls,
tokens and money) and, for a scored file, the reward model. Every figure is read from the files
(`provenance.py`); one that was not recorded is said to be unknown, never estimated.

Left out: writing the data (`hf_dataset.py`).
"""

from __future__ import annotations

from typing import Any

import yaml

from rmboost.integrations.provenance import Provenance

SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
         (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))
UNKNOWN = "not recorded"


def size_category(n: int) -> str:
    """The Hub's `size_categories` value for `n` rows."""
    return next((name for limit, name in SIZES if n < limit), "n>1B")


def card_metadata(facts: Provenance, license: str, name: str) -> dict[str, Any]:
    """The YAML header; `configs` names the files `push_to_hub` writes (one `train` split)."""
    return {
        "pretty_name": name,
        "license": license,
        "task_categories": ["text-generation"],
        "tags": list(dict.fromkeys(["rmboost", "synthetic" if facts.synthetic else "human-feedback", "preference",
                                    "dpo", "reward-modeling",
                                    *([str(facts.setting("method"))] if facts.setting("method") else [])])),
        "size_categories": [size_category(facts.rows)],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}],
    }


def _table(rows: list[tuple[str, Any]]) -> list[str]:
    return ["| | |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows)]


def _file_or_builtin(facts: Provenance, name: str, builtin: str) -> str:
    digest = facts.setting(name)
    where = f"`{facts.files[name]}`" if facts.files.get(name) else builtin
    return f"{where} (digest `{digest}`)" if digest else where


def making(facts: Provenance) -> list[str]:
    if facts.settings is None:
        return ["## How it was made", "", f"Not recorded: no settings file beside `{facts.pairs_file}`."]
    s = facts.setting
    served = s("served_model")
    model = f"`{served}`" + (f" (asked for `{s('model')}`)" if s("model") and s("model") != served else "")
    method = str(s("method"))
    drawn = ", ".join(f"{a} ({n})" for a, n in facts.aspects.items()) or "none named in the rows"
    rows = [
        ("method", f"`{method}`"), ("model", model if served else f"`{s('model') or UNKNOWN}`"),
        ("backend", f"`{s('backend')}`"), ("task", f"`{s('task')}`"),
        ("template", _file_or_builtin(facts, "template", f"built-in {method} template")),
        ("aspects", _file_or_builtin(facts, "aspects", f"the built-in `{s('task')}` task's") + f"; drawn: {drawn}"),
        ("sampling", ", ".join(f"{k} {s(k)}" for k in ("temperature", "top_p", "max_tokens", "seed", "attempts",
                                                       "pairs_per_prompt") if s(k) is not None)),
        ("settings fingerprint", f"`{facts.fingerprint}` (every row's `settings` column)"),
    ]
    out = ["## How it was made", "", *_table(rows), ""]
    if facts.history:
        out += [f"The file mixes rows made with {len(facts.history) + 1} sets of settings (`--append`); the "
                "settings file lists them, and each row's `settings` column names its own.", ""]
    out += ["The command (rebuilt from the settings file; `rmboost generate` does not record its command line):",
            "", "```", facts.command or UNKNOWN, "```"]
    return out


def outcome(facts: Provenance) -> list[str]:
    prompts, rate = facts.prompts, facts.yield_rate
    made = f"{facts.rows} pairs" + (f" from {prompts} valid prompts (yield {rate:.1%})" if prompts and rate is not None
                                    else " (prompts: not recorded)")
    out = ["## Yield", "", made + ".", ""]
    if facts.labels:
        out += ["Labels: " + ", ".join(f"{k} {v}" for k, v in sorted(facts.labels.items())) + ".", ""]
    if facts.failures is None:
        return [*out, "Failures: not recorded (no failures file beside the pair file)."]
    total = sum(facts.failures.values())
    transient = f" ({facts.retryable_failures} transient, tried again on a rerun)" if facts.retryable_failures else ""
    out.append(f"Failures: {total}{transient}" + (", by stage and reason:" if total else "."))
    if total:
        out += ["", "| stage: reason | prompts |", "| --- | --- |",
                *(f"| {r} | {n} |" for r, n in facts.failures.items())]
    return out


def row_tokens(facts: Provenance) -> list[str]:
    """What the pairs in the file took, from their own `usage` (every run that made one counts)."""
    u = facts.row_usage
    if not u:
        return []
    return ["", f"The {facts.rows} pairs' own `usage` column adds up to {u['calls']} LLM calls "
            f"({u['cached_calls']} from the cache), {u['prompt_tokens']} prompt and {u['completion_tokens']} "
            "completion tokens, whichever run made them."]


def cost(facts: Provenance) -> list[str]:
    s = facts.summary
    if s is None:
        return ["## Tokens and cost", "", "Not recorded: no run summary beside the pair file.", *row_tokens(facts)]
    money = f"${s.cost_usd:.6g}" if s.cost_usd is not None else "not computed (no prices were given)"
    rows = [("pairs made by the run", s.pairs), ("LLM calls sent", s.calls_sent),
            ("answered from the cache", s.cache_hits),
            ("prompt tokens", s.prompt_tokens), ("completion tokens", s.completion_tokens),
            ("billed prompt tokens", s.billed_prompt_tokens), ("billed completion tokens", s.billed_completion_tokens),
            ("cost", money), ("wall time", f"{s.wall_seconds:.1f} s")]
    if facts.scoring:
        note = f"From the run summary of `{facts.scoring.get('input')}`, the pairs before scoring."
    elif s.pairs != facts.rows:
        note = f"From the last run's summary, which made {s.pairs} of the {facts.rows} pairs (earlier runs resumed)."
    else:
        note = "From the run summary."
    return ["## Tokens and cost", "", note, "", *_table(rows), *row_tokens(facts)]


def scoring(facts: Provenance) -> list[str]:
    sc = facts.scoring
    if not sc:
        return []
    cut = sc.get("min_margin")
    margin = f"; pairs with a margin below {cut:g} were left out" if cut is not None else ""
    return ["## Rewards", "", f"Scored by `{sc.get('command')}` with the reward model `{sc.get('rm')}` (fingerprint "
            f"`{sc.get('rm_fingerprint')}`, every row's `rm_fingerprint`) from `{sc.get('input')}`{margin}.", ""]


def render_card(facts: Provenance, license: str = "other", name: str | None = None, repo: str | None = None) -> str:
    """README.md for the exported pairs of `facts` (`repo`: the Hub repo it goes to, if known)."""
    title = name or facts.pairs_file.rsplit("/", 1)[-1].split(".")[0]
    header = yaml.safe_dump(card_metadata(facts, license, title), sort_keys=False, allow_unicode=True)
    made = (" made with rmboost" if facts.settings is not None
            else " labelled by people" if facts.methods and set(facts.methods) == {"human"} else "")
    intro = [f"# {title}", "", f"{facts.rows} preference pairs{made}, in TRL's preference format "
             "(`prompt`, `chosen`, `rejected`) plus metadata columns; mapping columns (`params`, `usage`, ...) are "
             "JSON text.", ""]
    licence = ["## Licence", "", f"`{license}` (`rmboost export --license`). The terms of the prompts' source and "
               "of the model that wrote the responses apply as well."]
    load = f'pairs = load_dataset("{repo or "REPO"}", split="train")  # or datasets.load_from_disk(FOLDER)["train"]'
    use = ["## Use", "", "```python", "from datasets import load_dataset", "", load, "```"]
    body = [*intro, *making(facts), "", *outcome(facts), "", *cost(facts), "", *scoring(facts), *licence, "", *use]
    return f"---\n{header}---\n\n" + "\n".join(body) + "\n"
