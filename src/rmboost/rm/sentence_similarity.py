"""Three semantic features of a (prompt, response) for `features-sim`, from frozen
all-MiniLM-L6-v2 sentence embeddings (mean-pooled, normalised; kept on disk by `embedding_store`):

- `sim_mean`: over the response's sentences, the mean of each one's best cosine with a prompt sentence
  (how well the prompt supports what it says, by meaning rather than by shared words);
- `sim_weakest`: the lowest of those best cosines (its least supported sentence);
- `sim_question`: the cosine of the whole response with the question.

The prompt is cut into sentences as `evidence.sentences` does; a conversation is read as the text
of its messages, and the question is the prompt's question (both by `prompts/prompt_text.py`).
Each distinct sentence is embedded once per process and once on disk. No weight here: these are
inputs to a trained linear model, never a score on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rmboost.prompts.prompt_text import prompt_text, question_text
from rmboost.records import Prompt
from rmboost.rm.evidence import sentences

MAX_LENGTH = 128


def _prompt_sentences(prompt: Prompt) -> list[str]:
    text = prompt_text(prompt)
    return sentences(text) or [text or " "]


def similarity_rows(prompts: Sequence[Prompt], responses: Sequence[str]) -> list[list[float]]:
    from rmboost.rm.embed_linear import MiniLMEmbedder

    embedder: Any = MiniLMEmbedder.shared(MAX_LENGTH, False)
    keys = [p if isinstance(p, str) else repr(p) for p in prompts]
    first: dict[str, Prompt] = {}
    for k, p in zip(keys, prompts, strict=True):
        first.setdefault(k, p)
    prompt_sents = {k: _prompt_sentences(p) for k, p in first.items()}
    questions = {k: question_text(p) or " " for k, p in first.items()}
    resp_sents = [sentences(r) or [r or " "] for r in responses]
    every = [s for v in prompt_sents.values() for s in v] + list(questions.values())
    every += [s for v in resp_sents for s in v] + [r or " " for r in responses]
    embedder.embed(every)  # one batched pass over what is not stored yet
    vec = embedder.store.get
    rows = []
    for k, sents, response in zip(keys, resp_sents, responses, strict=True):
        best = (vec(sents) @ vec(prompt_sents[k]).T).max(axis=1)
        question = float(vec([response or " "])[0] @ vec([questions[k]])[0])
        rows.append([float(np.mean(best)), float(np.min(best)), question])
    return rows
