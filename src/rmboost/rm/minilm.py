"""`minilm`: all-MiniLM-L6-v2 fine-tuned end to end as a cross-encoder reward model. The input is
`[CLS] prompt [SEP] response [SEP]` (cut by `truncation.py`), the score a linear head on the pooled
`[CLS]`; training minimises the Bradley-Terry loss with AdamW and a linear warm-up/decay schedule.
Minutes on a CPU: 2,000 pairs at 256 tokens trained in 12 minutes on 2 cores (docs/PERFORMANCE.md).
The loop is plain torch rather than TRL's trainer so that it stays small and CPU-friendly.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rmboost.records import Pair, Prompt
from rmboost.rm.base import RewardModel, with_overrides
from rmboost.rm.encoding import PairEncoder, pad_batch, score_ids
from rmboost.rm.runtime import offline, prepare_torch

log = logging.getLogger(__name__)


@dataclass
class MiniLMSettings:
    max_length: int = 256
    epochs: float = 1.0
    lr: float = 3e-5
    batch_size: int = 8
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    head: int = 32
    seed: int = 0


class MiniLMRM(RewardModel):
    kind = "minilm"

    def __init__(self, model: Any, tokenizer: Any, settings: MiniLMSettings) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.cfg = settings
        self.encoder = PairEncoder(tokenizer, settings.max_length, "cross", settings.head)

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        ids = [self.encoder.encode(p, r) for p, r in zip(prompts, responses, strict=True)]
        return score_ids(self.model, ids, self.tokenizer.pad_token_id, batch_size=32)

    @classmethod
    def train(cls, pairs: Sequence[Pair], kind: str = "minilm", seed: int = 0, **overrides: Any) -> MiniLMRM:
        import torch
        from transformers import (
            AutoModelForSequenceClassification,
            AutoTokenizer,
            get_linear_schedule_with_warmup,
        )

        from rmboost.rm.bradley_terry import bradley_terry_loss
        from rmboost.rm.local_models import minilm_dir

        cfg = with_overrides(MiniLMSettings(), seed, overrides)
        prepare_torch(cfg.seed)
        tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
        net = AutoModelForSequenceClassification.from_pretrained(minilm_dir(), num_labels=1)
        model = cls(net, tokenizer, cfg)
        chosen = [model.encoder.encode(p.prompt, p.chosen) for p in pairs]
        rejected = [model.encoder.encode(p.prompt, p.rejected) for p in pairs]
        per_epoch = math.ceil(len(pairs) / cfg.batch_size)
        steps = max(1, math.ceil(cfg.epochs * per_epoch))
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup_ratio * steps), steps)
        gen = torch.Generator().manual_seed(cfg.seed)
        batches: list[list[int]] = []
        net.train()
        start = time.perf_counter()
        for step in range(steps):
            if not batches:
                batches = [
                    b.tolist() for b in torch.randperm(len(pairs), generator=gen).split(cfg.batch_size)
                ]
            idx = batches.pop(0)
            input_ids, mask = pad_batch(
                [chosen[i] for i in idx] + [rejected[i] for i in idx], tokenizer.pad_token_id
            )
            rewards = net(input_ids=input_ids, attention_mask=mask).logits.reshape(-1)
            loss = bradley_terry_loss(rewards[: len(idx)], rewards[len(idx) :])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            if (step + 1) % 20 == 0 or step + 1 == steps:
                log.info(
                    "minilm step %d/%d loss %.4f (%.0fs)",
                    step + 1,
                    steps,
                    loss.item(),
                    time.perf_counter() - start,
                )
        model.model = net.eval()
        return model

    def settings(self) -> dict[str, Any]:
        return asdict(self.cfg)

    def save_weights(self, directory: Path) -> None:
        self.model.save_pretrained(directory / "model")
        self.tokenizer.save_pretrained(directory / "model")

    @classmethod
    def from_dir(cls, directory: Path, settings: dict[str, Any]) -> MiniLMRM:
        offline()
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        cfg = MiniLMSettings(**settings)
        prepare_torch(cfg.seed)
        net = AutoModelForSequenceClassification.from_pretrained(directory / "model")
        return cls(net, AutoTokenizer.from_pretrained(directory / "model"), cfg)
