"""The Bradley-Terry training loop the torch kinds share (`minilm`, `maxsim`, `embed-linear`):
batches of whole questions, AdamW with a linear warm-up and decay, a validation accuracy every
`eval_every` steps, the best validation checkpoint kept, and early stopping after `patience`
evaluations without a gain. Each evaluation step adds a row to the curve and calls `on_progress`.

A batch holds every pair of the questions it draws (at least `batch_size` pairs), so a response
that appears in several pairs of its question is encoded once per step. How a batch becomes a loss,
and how the validation pairs are scored, is the kind's business (`batch_loss`, `validate`); how
progress is shown is the caller's (`on_progress`). Without validation pairs the last step is kept.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rmboost.measure.outcomes import pairwise_accuracy
from rmboost.records import Pair
from rmboost.rm.validation import question_key


class Progress(Protocol):
    def __call__(self, step: int, total_steps: int, loss: float, val_accuracy: float | None) -> None: ...


@dataclass
class LoopSettings:
    epochs: float
    lr: float
    batch_size: int
    weight_decay: float
    warmup_ratio: float
    evals_per_epoch: float
    patience: int
    seed: int


def question_groups(pairs: Sequence[Pair]) -> list[list[int]]:
    """Indices of `pairs`, grouped by question, groups in first-seen order."""
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault(question_key(p), []).append(i)
    return list(groups.values())


def epoch_batches(groups: list[list[int]], batch_size: int, gen: Any) -> list[list[int]]:
    """One epoch: the groups in a seeded random order, packed into batches of >= batch_size pairs."""
    import torch

    batches: list[list[int]] = [[]]
    for g in torch.randperm(len(groups), generator=gen).tolist():
        if len(batches[-1]) >= batch_size:
            batches.append([])
        batches[-1].extend(groups[g])
    return [b for b in batches if b]


def train_loop(
    params: list[Any],
    pairs: Sequence[Pair],
    batch_loss: Callable[[list[int]], Any],
    cfg: LoopSettings,
    module: Any,
    validate: Callable[[], float] | None = None,
    on_progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Train `module` (whose trainable tensors are `params`: tensors, or AdamW parameter groups
    with their own `lr`) and return the curve. When `validate` is given, `module` ends holding
    the weights of its best validation step."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    groups = question_groups(pairs)
    gen = torch.Generator().manual_seed(cfg.seed)
    per_epoch = len(epoch_batches(groups, cfg.batch_size, torch.Generator().manual_seed(cfg.seed)))
    steps = max(1, math.ceil(cfg.epochs * per_epoch))
    eval_every = max(1, round(per_epoch / max(cfg.evals_per_epoch, 1e-9)))
    flat = [t for p in params for t in (p["params"] if isinstance(p, dict) else [p])]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup_ratio * steps), steps)
    curve: list[dict[str, Any]] = []
    best: tuple[float, Any] | None = None
    batches: list[list[int]] = []
    losses: list[float] = []
    start = time.perf_counter()
    module.train()
    for step in range(1, steps + 1):
        if not batches:
            batches = epoch_batches(groups, cfg.batch_size, gen)
        loss = batch_loss(batches.pop(0))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(flat, 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.item()))
        if step % eval_every and step != steps:
            continue
        accuracy = None
        if validate is not None:
            module.eval()
            accuracy = float(validate())
            module.train()
            if best is None or accuracy > best[0]:
                best = (accuracy, copy.deepcopy(module.state_dict()))
        mean_loss = sum(losses) / len(losses)
        losses = []
        curve.append({"step": step, "epoch": round(step / per_epoch, 3), "loss": round(mean_loss, 5),
                      "val_accuracy": accuracy, "seconds": round(time.perf_counter() - start, 1)})
        if on_progress is not None:
            on_progress(step, steps, mean_loss, accuracy)
        if best is not None and _stale(curve, cfg.patience):
            break
    if best is not None:
        module.load_state_dict(best[1])
    module.eval()
    return curve


def _stale(curve: list[dict[str, Any]], patience: int) -> bool:
    """True when none of the last `patience` evaluations beat the best one before them."""
    scores = [row["val_accuracy"] for row in curve if row["val_accuracy"] is not None]
    if patience <= 0 or len(scores) <= patience:
        return False
    return max(scores[-patience:]) <= max(scores[:-patience])


def validation_accuracy(chosen: Sequence[float], rejected: Sequence[float]) -> float:
    """Share of pairs whose chosen response scores higher, a tie counting half (nan without pairs):
    `measure.outcomes.pairwise_accuracy`, the rule of every accuracy rmboost reports."""
    return pairwise_accuracy(chosen, rejected)


def pair_inputs(
    pairs: Sequence[Pair], encode: Callable[[Any, str], Any]
) -> tuple[list[Any], list[int], list[int]]:
    """The distinct encoded (prompt, response) inputs of `pairs`, and for each pair the index of
    its chosen and of its rejected input: a response in three pairs is encoded (and run) once."""
    import json

    index: dict[tuple[str, str], int] = {}
    inputs: list[Any] = []
    sides: tuple[list[int], list[int]] = ([], [])
    for p in pairs:
        prompt_key = p.prompt if isinstance(p.prompt, str) else json.dumps(p.prompt, sort_keys=True)
        for side, response in zip(sides, (p.chosen, p.rejected), strict=True):
            key = (prompt_key, response)
            if key not in index:
                index[key] = len(inputs)
                inputs.append(encode(p.prompt, response))
            side.append(index[key])
    return inputs, sides[0], sides[1]
