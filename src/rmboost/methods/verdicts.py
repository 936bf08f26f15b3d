"""Read a judge's answer: a pairwise verdict (`Verdict: A`), a rating (`Score: 7`), and how sure
the model was of its verdict from the token log-probabilities.

Parsing is lenient about shape (markdown bold, "Response A", brackets, a trailing full stop) but
strict about content: only the last explicit `Verdict:` / `Score:` counts (for a verdict, failing
that, an answer that is the letter alone; for a score, the last "N/10" or "N out of 10"), and an
answer without one gives None, so that an
unreadable judgement becomes a failure instead of a guess.
Deciding what a verdict means for a pair is the method's job.
"""

from __future__ import annotations

import math
import re

_DECORATION = r"[\s*_`\"'\[\]()]*"
VERDICT = re.compile(
    rf"verdict{_DECORATION}[:=\-]{_DECORATION}(?:response|answer|output)?{_DECORATION}([AB])(?![A-Za-z0-9])",
    re.IGNORECASE,
)
SCORE = re.compile(
    rf"(?:score|rating){_DECORATION}[:=\-]{_DECORATION}(\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(\d+))?",
    re.IGNORECASE,
)
# A rating written as a fraction without the "Score:" label ("The response is 7 out of 10.").
FRACTION = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:/|out of)\s*(\d+)", re.IGNORECASE)


# An answer that is the letter alone ("A", "**B**.", "(A)"): the one-line reply the judge prompt
# asks for, minus its label. Small models often drop the label; the letter alone is not ambiguous.
BARE = re.compile(rf"{_DECORATION}([AB]){_DECORATION}\.?\s*")


def parse_verdict(text: str) -> str | None:
    """"A" or "B" from the last `Verdict: X` in `text`, or from an answer that is the letter alone;
    else None."""
    found = VERDICT.findall(text)
    if found:
        return found[-1].upper()
    bare = BARE.fullmatch(text)
    return bare.group(1).upper() if bare else None


def parse_score(text: str, low: int = 1, high: int = 10) -> float | None:
    """The number of the last `Score: N` (or `Score: N/10`) in `text`, else of the last `N/10` or
    `N out of 10`, when it lies in [low, high]; else None. A score on another scale (`4/5`) is not
    rescaled: it is refused."""
    found = SCORE.findall(text) or [(v, s) for v, s in FRACTION.findall(text) if s]
    if not found:
        return None
    value, scale = found[-1]
    if scale and int(scale) != high:
        return None
    number = float(value)
    return number if low <= number <= high else None


def verdict_probability(top_logprobs: list[dict[str, float]] | None, text: str, verdict: str) -> float | None:
    """P(verdict) / (P(A) + P(B)) at the token that wrote the verdict letter after the last
    `Verdict:`, from the top-k alternatives the backend returned for each generated token.

    The generated token at each position is recovered by matching the alternatives against
    `text`; when that fails (a sampled token outside the top-k, a token split inside a
    character) or the letter's position cannot be found, the answer is None."""
    if not top_logprobs or verdict not in ("A", "B"):
        return None
    letter_at = [m.start(1) for m in VERDICT.finditer(text)]
    if not letter_at and (bare := BARE.fullmatch(text)) is not None:
        letter_at = [bare.start(1)]
    if not letter_at:
        return None
    offset = 0
    for alternatives in top_logprobs:
        matches = [t for t in alternatives if t and text.startswith(t, offset)]
        if not matches:
            return None
        token = max(matches, key=len)
        if offset <= letter_at[-1] < offset + len(token):
            mass = {"A": 0.0, "B": 0.0}
            for alt, logprob in alternatives.items():
                key = _letter(alt)
                if key in mass:
                    mass[key] += math.exp(logprob)
            total = mass["A"] + mass["B"]
            return mass[verdict] / total if total > 0 else None
        offset += len(token)
    return None


def _letter(token: str) -> str:
    return token.strip(" \t\n*_`[]()\"'.:,").upper()
