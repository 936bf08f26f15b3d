"""RMBoost (Shen et al. 2024, arXiv 2407.16008): label first, then generate to match it.

y1 answers the prompt; the label (y2 must be BETTER or WORSE) is drawn so that each consecutive
pair of prompts gets one of each, which makes the labels exactly balanced for any seed; k aspects
are drawn from the task; y2 is asked to be better or worse than y1 on exactly those aspects. The
pair is oriented by construction, so no judge is involved. A y2 that is no answer is a failure,
not a pair: empty or only a lead-in, unparseable, the same as y1, a comment about the responses
("the original response was..."), an echo of the instruction's direction word, 8 words pasted
back from the instruction, or the question repeated. Weak models do all of these; each check is
measured in docs/METHODS.md. `--verify` (beyond the paper) adds a judge that can drop a pair.
"""

from __future__ import annotations

import re
from pathlib import Path

from rmboost.llm import LLM
from rmboost.methods.base import Method, SamplingConfig, WorkItem, derive_seed
from rmboost.methods.checks import content_problem, copies_from, normalise
from rmboost.methods.extraction import extract_tagged
from rmboost.methods.judge import ORDERS, PairJudge, contradiction
from rmboost.prompts.tasks import Aspect, Task
from rmboost.prompts.templates import load_template, render
from rmboost.records import Pair, PairFailure

LABELS = ("BETTER", "WORSE")
# Weak models often answer the rewrite request with a comment on the responses instead of a new one.
META_COMMENT = re.compile(
    r"\b(?:previous|original|existing|old|new|first|rewritten) (?:response|answer)\b"
    r"|\bthe (?:response|answer) (?:above|below)\b|\bthis (?:response|answer) is (?:better|worse)\b"
    r"|\bI(?:'ll| will) (?:try to |now )?(?:ensure|make sure|rewrite|revise|improve|write|provide)\b",
    re.IGNORECASE,
)


def balanced_label(index: int, seed: int) -> str:
    """Prompts 2j and 2j+1 get one BETTER and one WORSE, in a seeded order."""
    first = LABELS[derive_seed(seed, "label-block", index // 2) % 2]
    return first if index % 2 == 0 else LABELS[1 - LABELS.index(first)]


class RMBoost(Method):
    name = "rmboost"

    def __init__(
        self,
        task: Task,
        sampling: SamplingConfig | None = None,
        template_file: str | Path | None = None,
        aspects_per_pair: int | None = None,
        max_aspects: int = 3,
        length_control: bool = False,
        verify: bool = False,
        judge_decision: str = "agree",
    ) -> None:
        super().__init__(task, sampling)
        # --verify (beyond the paper): the RLAIF judge checks the label; a pair whose label it
        # contradicts in both orders is dropped, or with judge_decision="average", a pair whose
        # label gets less than half of the order-averaged verdict probability.
        self.verifier = PairJudge(task, decision=judge_decision) if verify else None
        self.verified = self.contradicted = 0
        self.template = load_template("rmboost", template_file, required=("rewrite",))
        self.aspects_per_pair = aspects_per_pair
        self.max_aspects = max_aspects
        self.length_control = length_control

    def choose_aspects(self, item: WorkItem) -> list[Aspect]:
        rng = item.rng("aspects")
        pool = list(self.task.aspects)
        k = self.aspects_per_pair or rng.randint(1, min(self.max_aspects, len(pool)))
        return rng.sample(pool, min(k, len(pool)))

    def rewrite_messages(self, item: WorkItem, y1: str, label: str, aspects: list[Aspect]) -> list[dict[str, str]]:
        """The y1 conversation, y1 as the assistant's turn, then the rewrite instruction."""
        directions = self.template.get("directions", {})
        direction = str(directions.get(label, label))
        instruction = render(
            self.template["rewrite"],
            task_description=self.task.description,
            direction=direction,
            direction_lower=direction.lower(),
            aspect_list=self.task.aspect_list(aspects),
            length_rule=self.template.get("length_rule", "") if self.length_control else "",
        )
        return [*self.policy_messages(item.record), {"role": "assistant", "content": y1},
                {"role": "user", "content": instruction}]

    async def make_pair(self, item: WorkItem, llm: LLM) -> Pair:
        first = await llm.chat(self.request(self.policy_messages(item.record), "y1", item), item.usage)
        y1 = first.text.strip()
        problem = content_problem(y1)
        if problem:
            raise PairFailure("y1", problem)
        label = balanced_label(item.index, item.seed)
        aspects = self.choose_aspects(item)
        messages = self.rewrite_messages(item, y1, label, aspects)
        second = await llm.chat(self.request(messages, "y2", item), item.usage)
        y2 = extract_tagged(second.text)
        if y2 is None:
            raise PairFailure("y2", "no response could be extracted", label=label, raw=second.text[:500])
        problem = content_problem(y2)
        if problem:
            raise PairFailure("y2", problem, label=label, raw=second.text[:500])
        if normalise(y2) == normalise(y1):
            raise PairFailure("y2", "identical to y1", label=label)
        if META_COMMENT.search(y2) and not META_COMMENT.search(y1):
            raise PairFailure("y2", "comments on the responses instead of answering", label=label, text=y2[:300])
        if self.echoes_direction(y1, y2, label):
            raise PairFailure("y2", "echoes the instruction's direction word", label=label, text=y2[:300])
        instruction = messages[-1]["content"]
        if copies_from(y2, instruction) and not copies_from(y1, instruction):
            raise PairFailure("y2", "copies the rewrite instruction", label=label, text=y2[:300])
        if isinstance(item.record.prompt, str) and normalise(y2) == normalise(item.record.prompt):
            raise PairFailure("y2", "repeats the question", label=label)
        extra = await self.verify(item, llm, y1, y2, label) if self.verifier else {}
        chosen, rejected = (y2, y1) if label == "BETTER" else (y1, y2)
        return self.new_pair(
            item, llm, chosen, rejected, label=label, aspects=[a.name for a in aspects], extra=extra,
        )

    def echoes_direction(self, y1: str, y2: str, label: str) -> bool:
        """y2 repeats the instruction's capitalised direction ("... and that the response is BETTER.").
        Only an all-caps direction is checked: a lower-case word is ordinary prose."""
        word = str(self.template.get("directions", {}).get(label, label))
        if not word.isupper():
            return False
        pattern = re.compile(rf"\b{re.escape(word)}\b")
        return bool(pattern.search(y2)) and not pattern.search(y1)

    async def verify(self, item: WorkItem, llm: LLM, y1: str, y2: str, label: str) -> dict[str, object]:
        assert self.verifier is not None
        try:
            judgement = await self.verifier.judge(self, item, llm, y1, y2)
        except PairFailure as e:
            if e.retryable:
                raise  # a backend error: the prompt is tried again on the next run
            # The judge gave no usable answer (e.g. cut at max_tokens): that contradicts nothing.
            self.verified += 1
            return {"verdicts": {o: None for o in ORDERS}, "verify_note": e.reason}
        self.verified += 1
        intended = 2 if label == "BETTER" else 1
        found = contradiction(judgement, self.verifier.decision, intended)
        if found is not None:
            self.contradicted += 1
            reason, detail = found
            raise PairFailure("verify", reason, label=label, verdicts=judgement.verdicts, **detail)
        extra: dict[str, object] = {"verdicts": judgement.verdicts}
        if self.verifier.decision == "average":
            p1 = judgement.p_first()
            extra["p_label"] = None if p1 is None else (p1 if intended == 1 else 1 - p1)
        return extra

    def run_stats(self) -> dict[str, object]:
        if self.verifier is None:
            return {}
        rate = self.contradicted / self.verified if self.verified else None
        return {"verified": self.verified, "contradicted": self.contradicted, "contradiction_rate": rate}
