"""`minilm`: all-MiniLM-L6-v2 fine-tuned end to end as a cross-encoder reward model. The input is
`[CLS] evidence [SEP] response [SEP]`, where the evidence is the prompt reduced to the sentences
that best match this response, the instruction and the question (`evidence.py`; then cut by
`truncation.py` if need be); the score is a linear head on the pooled `[CLS]`. Training is the
shared loop of `training_loop.py` (Bradley-Terry loss, AdamW, best validation checkpoint), plain
torch rather than TRL's trainer so that it stays small and CPU-friendly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rmboost.records import Pair, Prompt
from rmboost.rm.base import RewardModel, with_overrides
from rmboost.rm.encoding import PairEncoder, pad_batch, score_ids
from rmboost.rm.runtime import offline, prepare_torch
from rmboost.rm.training_loop import LoopSettings, Progress, pair_inputs, train_loop, validation_accuracy


@dataclass
class MiniLMSettings:
    max_length: int = 256
    epochs: float = 1.0
    lr: float = 3e-5
    batch_size: int = 8
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    evals_per_epoch: float = 2.0
    patience: int = 4
    head: int = 32
    evidence: bool = True
    seed: int = 0


class MiniLMRM(RewardModel):
    kind = "minilm"
    settings_type = MiniLMSettings

    def __init__(self, model: Any, tokenizer: Any, settings: MiniLMSettings) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.cfg = settings
        self.encoder = PairEncoder(tokenizer, settings.max_length, "cross", settings.head, settings.evidence)
        self.curve: list[dict[str, Any]] = []

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        ids = [self.encoder.encode(p, r) for p, r in zip(prompts, responses, strict=True)]
        return score_ids(self.model, ids, self.tokenizer.pad_token_id, batch_size=32)

    @classmethod
    def train(
        cls,
        pairs: Sequence[Pair],
        kind: str = "minilm",
        seed: int = 0,
        validation: Sequence[Pair] = (),
        on_progress: Progress | None = None,
        **overrides: Any,
    ) -> MiniLMRM:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from rmboost.rm.bradley_terry import bradley_terry_loss
        from rmboost.rm.local_models import minilm_dir

        cfg = with_overrides(MiniLMSettings(), seed, overrides)
        prepare_torch(cfg.seed)
        tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
        net = AutoModelForSequenceClassification.from_pretrained(minilm_dir(), num_labels=1)
        model = cls(net, tokenizer, cfg)
        inputs, chosen, rejected = pair_inputs(pairs, model.encoder.encode)

        def batch_loss(idx: list[int]) -> Any:
            used = sorted({chosen[i] for i in idx} | {rejected[i] for i in idx})
            where = {u: k for k, u in enumerate(used)}
            ids, mask = pad_batch([inputs[u] for u in used], tokenizer.pad_token_id)
            rewards = net(input_ids=ids, attention_mask=mask).logits.reshape(-1)
            return bradley_terry_loss(
                rewards[[where[chosen[i]] for i in idx]], rewards[[where[rejected[i]] for i in idx]]
            )

        def validate() -> float:
            return validation_accuracy(*model.score_pairs(validation))

        loop = LoopSettings(cfg.epochs, cfg.lr, cfg.batch_size, cfg.weight_decay, cfg.warmup_ratio,
                            cfg.evals_per_epoch, cfg.patience, cfg.seed)
        model.curve = train_loop(list(net.parameters()), pairs, batch_loss, loop, net,
                                 validate if validation else None, on_progress)
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

        # A model saved before evidence selection existed read the prompt's head and tail.
        cfg = MiniLMSettings(**{"evidence": False, **settings})
        prepare_torch(cfg.seed)
        net = AutoModelForSequenceClassification.from_pretrained(directory / "model")
        return cls(net, AutoTokenizer.from_pretrained(directory / "model"), cfg)
