"""`RunSummary`: what one generation run made and spent (calls, tokens and, given prices, money),
as the CLI prints it and as `<stem>.summary.json` stores it. Only the record; making it is
`generation/run.py`'s job."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RunSummary:
    output: str
    failures_file: str
    pairs: int
    failures: int
    skipped_done: int
    input_errors: int
    duplicate_ids: int
    calls_sent: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    wall_seconds: float
    pairs_in_output: int
    stopped_early: str | None = None
    method_stats: dict[str, Any] = field(default_factory=dict)
    settings: str | None = None  # the fingerprint of the settings the new rows were made with
    prompts_total: int | None = None  # valid input rows (up to --limit), done before included
    # Tokens of the calls sent; a call answered from the cache costs nothing.
    billed_prompt_tokens: int = 0
    billed_completion_tokens: int = 0
    cost_usd: float | None = None  # None when no prices were given
    projected_cost_usd: float | None = None  # for every prompt of the input, at this run's rate
    # How the run was asked for, beyond the settings file (which holds what changes a row): the
    # prompt file and --limit, so the run's command can be rebuilt (the dataset card).
    input: str | None = None
    limit: int | None = None

    @property
    def did_nothing(self) -> bool:
        """No pair, no failure, no LLM call: a resume of a finished run. Its summary is not worth
        keeping over the one of the run that made the pairs."""
        return not (self.pairs or self.failures or self.calls_sent or self.cache_hits or self.input_errors)

    def per_pair(self) -> dict[str, float | None]:
        """Calls and tokens per new pair; each None (absent, not 0 or a total) when the run made no pair."""
        n = self.pairs
        calls = self.calls_sent + self.cache_hits
        return {"calls": calls / n if n else None, "prompt_tokens": self.prompt_tokens / n if n else None,
                "completion_tokens": self.completion_tokens / n if n else None}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "per_pair": self.per_pair()}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> RunSummary:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in row.items() if k in names})

    def text(self) -> str:
        p = self.per_pair()
        per_pair = (f"per pair: {p['calls']:.2f} calls, {p['prompt_tokens']:.0f} prompt + "
                    f"{p['completion_tokens']:.0f} completion tokens" if self.pairs else "per pair: n/a (no new pair)")
        lines = [
            f"pairs: {self.pairs} new ({self.pairs_in_output} in {self.output}), "
            f"failures: {self.failures} (see {self.failures_file})",
            f"skipped (done before): {self.skipped_done}, input errors: {self.input_errors}, "
            f"duplicate ids: {self.duplicate_ids}",
            f"LLM calls: {self.calls_sent} sent, {self.cache_hits} from cache; "
            f"tokens: {self.prompt_tokens} prompt, {self.completion_tokens} completion",
            per_pair,
            f"wall time: {self.wall_seconds:.1f}s",
        ]
        if self.cost_usd is not None:
            lines.append(self.cost_text())
        if self.method_stats:
            lines.append("method: " + method_stats_text(self.method_stats))
        if self.stopped_early:
            lines.append(self.stopped_early)
        return "\n".join(lines)


    def cost_text(self) -> str:
        text = (f"cost: ${self.cost_usd:.4f} for {self.calls_sent} calls sent ({self.billed_prompt_tokens} prompt + "
                f"{self.billed_completion_tokens} completion tokens); the {self.cache_hits} answered from the "
                "cache cost nothing")
        if self.projected_cost_usd is not None and self.prompts_total:
            text += f"; projected for all {self.prompts_total} prompts: ${self.projected_cost_usd:.4f}"
        return text


def method_stats_text(stats: dict[str, Any]) -> str:
    """`judged=30, disagreement_rate=1.000`: a method's run statistics on one line."""
    return ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items())
