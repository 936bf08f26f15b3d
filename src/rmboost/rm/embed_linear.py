"""`embed-linear`: a small head on frozen all-MiniLM-L6-v2 sentence embeddings, trained with the
Bradley-Terry loss. The cheapest kind: the encoder is never trained, so training the head takes
seconds once the texts are embedded (embedding is most of the cost).

Features of a (prompt, response) are `[r, p * r]`, where p and r are the mean-pooled, L2-normalised
embeddings of the prompt's evidence for this response (`evidence.py`: the sentences that best
match it, the instruction and the question) and of the response. The prompt alone would add the
same amount to both sides of a pair, so it is not a feature. The head is linear (`hidden=0`) or
one hidden layer, trained by the shared loop of `training_loop.py` (best validation epoch kept).
The encoder is not saved: it is found again through its package, so a saved model is a few
hundred kilobytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rmboost.records import Pair, Prompt
from rmboost.rm.base import RewardModel, with_overrides
from rmboost.rm.embedding_store import EmbeddingStore
from rmboost.rm.encoding import PairEncoder, pad_batch
from rmboost.rm.runtime import offline, prepare_torch
from rmboost.rm.training_loop import LoopSettings, Progress, train_loop, validation_accuracy

EMBED_DIM = 384


@dataclass
class EmbedLinearSettings:
    hidden: int = 64
    max_length: int = 256
    epochs: float = 60
    lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 64
    warmup_ratio: float = 0.0
    evals_per_epoch: float = 1.0
    patience: int = 15
    evidence: bool = True
    seed: int = 0


class MiniLMEmbedder:
    """Mean-pooled, normalised all-MiniLM-L6-v2 embeddings, remembered per text."""

    _shared: dict[tuple[int, bool], MiniLMEmbedder] = {}

    @classmethod
    def shared(cls, max_length: int, evidence: bool = True) -> MiniLMEmbedder:
        """One embedder (and one memory of embedded texts) per process and max_length: an
        experiment trains many models on overlapping texts and scores all on the same test set."""
        key = (max_length, evidence)
        if key not in cls._shared:
            cls._shared[key] = cls(max_length, evidence)
        return cls._shared[key]

    def __init__(self, max_length: int, evidence: bool = True) -> None:
        offline()
        from transformers import AutoModel, AutoTokenizer

        from rmboost.rm.local_models import minilm_dir

        self.tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
        self.model = AutoModel.from_pretrained(minilm_dir()).eval()
        self.encoder = PairEncoder(self.tokenizer, max_length, evidence=evidence)
        # Vectors by text, on disk: every model of an experiment (and every later run) reuses them.
        self.store = EmbeddingStore(f"all-MiniLM-L6-v2-mean-{max_length}")
        self.evidence: dict[tuple[str, str], str] = {}

    def evidence_text(self, prompt: Prompt, response: str) -> str:
        """The prompt's evidence for `response` (`PairEncoder.evidence_text`), remembered: every model
        of an experiment asks for the same ones."""
        key = (prompt if isinstance(prompt, str) else repr(prompt), response)
        if key not in self.evidence:
            self.evidence[key] = self.encoder.evidence_text(prompt, response)
        return self.evidence[key]

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> Any:
        import torch

        todo = sorted(self.store.missing(texts), key=len)
        with torch.inference_mode():
            for start in range(0, len(todo), batch_size):
                chunk = todo[start : start + batch_size]
                ids, mask = pad_batch(
                    [self.encoder.encode_single(t) for t in chunk], self.tokenizer.pad_token_id
                )
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).float()
                pooled = torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)
                self.store.put(chunk, pooled.numpy())
        if not texts:
            return torch.zeros(0, EMBED_DIM)
        return torch.from_numpy(self.store.get(list(texts)).copy())


def make_head(hidden: int) -> Any:
    import torch.nn as nn

    if hidden <= 0:
        return nn.Linear(2 * EMBED_DIM, 1)
    return nn.Sequential(nn.Linear(2 * EMBED_DIM, hidden), nn.GELU(), nn.Linear(hidden, 1))


class EmbedLinearRM(RewardModel):
    kind = "embed-linear"
    settings_type = EmbedLinearSettings

    def __init__(
        self, head: Any, settings: EmbedLinearSettings, embedder: MiniLMEmbedder | None = None
    ) -> None:
        self.head = head.eval()
        self.cfg = settings
        self.embedder = embedder or MiniLMEmbedder.shared(settings.max_length, settings.evidence)
        self.curve: list[dict[str, Any]] = []

    def features(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> Any:
        import torch

        p = self.embedder.embed([self.embedder.evidence_text(x, r) for x, r in zip(prompts, responses, strict=True)])
        r = self.embedder.embed(list(responses))
        return torch.cat([r, p * r], dim=-1)

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        import torch

        with torch.inference_mode():
            return [float(v) for v in self.head(self.features(prompts, responses)).reshape(-1).tolist()]

    @classmethod
    def train(
        cls,
        pairs: Sequence[Pair],
        kind: str = "embed-linear",
        seed: int = 0,
        validation: Sequence[Pair] = (),
        on_progress: Progress | None = None,
        **overrides: Any,
    ) -> EmbedLinearRM:
        from rmboost.rm.bradley_terry import bradley_terry_loss

        model = cls.untrained(kind, seed, **overrides)
        cfg = model.cfg
        prompts = [p.prompt for p in pairs]
        fc = model.features(prompts, [p.chosen for p in pairs])
        fr = model.features(prompts, [p.rejected for p in pairs])
        held = [p.prompt for p in validation]
        vc = model.features(held, [p.chosen for p in validation]) if validation else None
        vr = model.features(held, [p.rejected for p in validation]) if validation else None
        head = model.head

        def batch_loss(idx: list[int]) -> Any:
            return bradley_terry_loss(head(fc[idx]).squeeze(-1), head(fr[idx]).squeeze(-1))

        def validate() -> float:
            import torch

            with torch.inference_mode():
                return validation_accuracy(head(vc).reshape(-1).tolist(), head(vr).reshape(-1).tolist())

        loop = LoopSettings(float(max(1, round(cfg.epochs))), cfg.lr, cfg.batch_size, cfg.weight_decay,
                            cfg.warmup_ratio, cfg.evals_per_epoch, cfg.patience, cfg.seed)
        model.curve = train_loop(list(head.parameters()), pairs, batch_loss, loop, head,
                                 validate if validation else None, on_progress)
        return model

    @classmethod
    def untrained(cls, kind: str = "embed-linear", seed: int = 0, **overrides: Any) -> EmbedLinearRM:
        """The head as training starts it (torch's seeded random initialisation)."""
        cfg = with_overrides(EmbedLinearSettings(), seed, overrides)
        prepare_torch(cfg.seed)
        return cls(make_head(cfg.hidden), cfg, MiniLMEmbedder.shared(cfg.max_length, cfg.evidence))

    def settings(self) -> dict[str, Any]:
        return asdict(self.cfg)

    def save_weights(self, directory: Path) -> None:
        from safetensors.torch import save_file

        save_file(
            {k: v.contiguous() for k, v in self.head.state_dict().items()},
            str(directory / "head.safetensors"),
        )

    @classmethod
    def from_dir(cls, directory: Path, settings: dict[str, Any]) -> EmbedLinearRM:
        from safetensors.torch import load_file

        # A model saved before evidence selection existed read the prompt's head and tail.
        cfg = EmbedLinearSettings(**{"evidence": False, **settings})
        prepare_torch(cfg.seed)
        head = make_head(cfg.hidden)
        head.load_state_dict(load_file(str(directory / "head.safetensors")))
        return cls(head, cfg)
