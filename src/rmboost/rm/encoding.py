"""From (prompt, response) to token ids for a transformers model, and batched scoring of those ids
with a one-output sequence classifier.

Two layouts: `cross` (a BERT-style encoder such as MiniLM: `[CLS] prompt [SEP] response [SEP]`)
and `decoder` (a causal LM with a score head: the prompt rendered with the tokenizer's chat
template and generation prompt, when it has one, then the response; the score is read at the last
response token). A prompt too long for the budget is first reduced to the evidence for that one
response (`evidence.py`: the sentences that best match it, the instruction and the question); what
still overflows is cut by `truncation.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rmboost.prompts.prompt_text import transcript
from rmboost.records import Prompt
from rmboost.rm.evidence import select_evidence
from rmboost.rm.truncation import DEFAULT_HEAD, fit_pair, keep_head_and_tail, response_share


@dataclass
class PairEncoder:
    tokenizer: Any
    max_length: int
    layout: Literal["cross", "decoder"] = "cross"
    head: int = DEFAULT_HEAD
    evidence: bool = True
    _prompt_cache: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _counts: dict[str, int] = field(default_factory=dict, repr=False)

    def _ids(self, text: str, special: bool = False) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    def count(self, text: str) -> int:
        """Tokens of `text` alone (no special tokens), remembered: evidence selection asks often."""
        if text not in self._counts:
            self._counts[text] = len(self._ids(text))
        return self._counts[text]

    def evidence_prompt(self, prompt: Prompt, response: str, budget: int) -> Prompt:
        """The prompt reduced to about `budget` tokens of evidence for `response` (itself if it fits
        or evidence selection is off)."""
        if not self.evidence:
            return prompt
        return select_evidence(prompt, response, budget, self.count)

    def prompt_ids(self, prompt: Prompt, remember: bool = True) -> list[int]:
        key = prompt if isinstance(prompt, str) else repr(prompt)
        if key not in self._prompt_cache:
            if self.layout == "decoder" and getattr(self.tokenizer, "chat_template", None):
                messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
                out = self.tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, tokenize=True, return_dict=True
                )
                ids = list(out["input_ids"])
            # The model reads a conversation as one text, so it gets `transcript`, not `prompt_text`
            # (`prompts/prompt_text.py`): without role names it could not tell whose words are whose.
            elif self.layout == "decoder":
                ids = self._ids(transcript(prompt) + "\n\n", special=True)
            else:
                ids = self._ids(transcript(prompt))
            if not remember:  # one response's evidence: seldom asked for again
                return ids
            self._prompt_cache[key] = ids
        return self._prompt_cache[key]

    def encode(self, prompt: Prompt, response: str) -> list[int]:
        p, r = self.prompt_ids(prompt), self._ids(response)
        room = self.max_length - 3 if self.layout == "cross" else self.max_length
        if len(p) + len(r) > room and self.evidence:
            # The template's own tokens (a chat template's role markers) are not in `count`.
            extra = max(0, len(p) - self.count(transcript(prompt)))
            budget = room - response_share(len(p), len(r), room) - extra
            p = self.prompt_ids(self.evidence_prompt(prompt, response, budget), remember=False)
        if self.layout == "cross":
            # Segment ids are left at 0: all-MiniLM-L6-v2 was tuned on single segments, and the
            # [SEP] between prompt and response is enough for a fine-tuned head to tell them apart.
            cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
            p, r = fit_pair(p, r, room, self.head)
            return [cls, *p, sep, *r, sep]
        p, r = fit_pair(p, r, room, self.head)
        return p + r

    def encode_single(self, text: str) -> list[int]:
        """One text alone (for embedding), cut by the head-and-tail rule."""
        ids = keep_head_and_tail(self._ids(text), self.max_length - 2, self.head)
        return [self.tokenizer.cls_token_id, *ids, self.tokenizer.sep_token_id]

    def evidence_text(self, prompt: Prompt, response: str) -> str:
        """The prompt as one text (`transcript`), reduced to the evidence for `response` that fits one input."""
        return transcript(self.evidence_prompt(prompt, response, self.max_length - 2))


def pad_batch(id_lists: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """Right-padded `input_ids` and `attention_mask` tensors."""
    import torch

    width = max(len(ids) for ids in id_lists)
    input_ids = torch.full((len(id_lists), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(id_lists), width), dtype=torch.long)
    for i, ids in enumerate(id_lists):
        input_ids[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        mask[i, : len(ids)] = 1
    return input_ids, mask


def score_ids(
    model: Any, id_lists: Sequence[Sequence[int]], pad_id: int, batch_size: int = 16
) -> list[float]:
    """Scalar outputs of a `num_labels=1` classifier, in input order. Inputs are batched by length
    so that little padding is computed; the same inputs always give the same scores."""
    import torch

    order = sorted(range(len(id_lists)), key=lambda i: (len(id_lists[i]), i))
    out = [0.0] * len(id_lists)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            input_ids, mask = pad_batch([id_lists[i] for i in idx], pad_id)
            logits = model(input_ids=input_ids, attention_mask=mask).logits.reshape(-1)
            for i, v in zip(idx, logits.tolist(), strict=True):
                out[i] = float(v)
    return out
