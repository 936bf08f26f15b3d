"""`maxsim`: a late-interaction (ColBERT-style) reward model on all-MiniLM-L6-v2, fine-tuned end
to end with the Bradley-Terry loss. It asks of every response token how well the evidence
supports it.

The response and its evidence (the prompt sentences that best match it, with the instruction and
the question: `evidence.py`) are encoded separately by the same MiniLM. Each response token takes
its highest cosine similarity to any evidence token (after a learned projection); the score is a
learned weighted mean of those maxima, scaled, plus a linear term on the mean response embedding
(what the response says regardless of the evidence). With the projection started at the identity,
the untrained model is already a soft version of the `overlap` baseline; training decides which
tokens matter and how unsupported content should cost. Cross-attention between response and
evidence is left out: that is `minilm`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rmboost.records import Pair, Prompt
from rmboost.rm.base import RewardModel, with_overrides
from rmboost.rm.encoding import PairEncoder, pad_batch
from rmboost.rm.runtime import offline, prepare_torch
from rmboost.rm.training_loop import LoopSettings, Progress, pair_inputs, train_loop, validation_accuracy


@dataclass
class MaxSimSettings:
    max_length: int = 384  # evidence tokens, [CLS] and [SEP] included
    response_length: int = 192
    epochs: float = 4.0
    lr: float = 3e-5
    batch_size: int = 8
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    evals_per_epoch: float = 2.0
    patience: int = 4
    freeze_layers: int = 0
    scale: float = 10.0
    seed: int = 0


def build_net(encoder: Any, scale: float) -> Any:
    import torch
    from torch import nn

    width = encoder.config.hidden_size

    class MaxSimNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.proj = nn.Linear(width, width, bias=False)
            nn.init.eye_(self.proj.weight)
            self.weight = nn.Linear(width, 1)
            nn.init.zeros_(self.weight.weight)
            self.pooled = nn.Linear(width, 1)
            nn.init.zeros_(self.pooled.weight)
            self.scale = nn.Parameter(torch.tensor(float(scale)))

        def forward(self, resp: tuple[Any, Any], evid: tuple[Any, Any]) -> Any:
            hr = self.encoder(input_ids=resp[0], attention_mask=resp[1]).last_hidden_state
            he = self.encoder(input_ids=evid[0], attention_mask=evid[1]).last_hidden_state
            q = nn.functional.normalize(self.proj(hr), dim=-1)
            e = nn.functional.normalize(self.proj(he), dim=-1)
            sim = torch.einsum("bid,bjd->bij", q, e)
            sim = sim.masked_fill(~_content_mask(evid[1]).unsqueeze(1), -2.0)
            best = sim.max(dim=-1).values
            rmask = _content_mask(resp[1]).float()
            gate = nn.functional.softplus(self.weight(hr).squeeze(-1)) * rmask
            support = (gate * best).sum(1) / gate.sum(1).clamp_min(1e-6)
            m = resp[1].unsqueeze(-1).float()
            pooled = (hr * m).sum(1) / m.sum(1)
            return self.scale * support + self.pooled(pooled).squeeze(-1)

    return MaxSimNet()


def _content_mask(mask: Any) -> Any:
    """Attention mask without the first ([CLS]) and the last real ([SEP]) position of each row."""
    import torch

    out = mask.clone().bool()
    out[:, 0] = False
    last = mask.sum(1) - 1
    out[torch.arange(mask.shape[0]), last] = False
    return out


class MaxSimRM(RewardModel):
    kind = "maxsim"

    def __init__(self, net: Any, tokenizer: Any, settings: MaxSimSettings) -> None:
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.cfg = settings
        self.encoder = PairEncoder(tokenizer, settings.max_length, "cross")
        self.curve: list[dict[str, Any]] = []

    def encode(self, prompt: Prompt, response: str) -> tuple[list[int], list[int]]:
        """(response ids, evidence ids), each `[CLS] ... [SEP]`; the response keeps its first tokens."""
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        said = self.tokenizer(response, add_special_tokens=False)["input_ids"][: self.cfg.response_length - 2]
        evidence = self.encoder.encode_single(self.encoder.evidence_text(prompt, response))
        return [cls, *said, sep], evidence

    def forward(self, inputs: Sequence[tuple[list[int], list[int]]]) -> Any:
        pad = self.tokenizer.pad_token_id
        resp = pad_batch([x[0] for x in inputs], pad)
        evid = pad_batch([x[1] for x in inputs], pad)
        return self.net(resp, evid)

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        import torch

        inputs = [self.encode(p, r) for p, r in zip(prompts, responses, strict=True)]
        order = sorted(range(len(inputs)), key=lambda i: (len(inputs[i][1]) + len(inputs[i][0]), i))
        out = [0.0] * len(inputs)
        self.net.eval()
        with torch.inference_mode():
            for start in range(0, len(order), 16):
                idx = order[start : start + 16]
                for i, v in zip(idx, self.forward([inputs[i] for i in idx]).tolist(), strict=True):
                    out[i] = float(v)
        return out

    @classmethod
    def train(
        cls,
        pairs: Sequence[Pair],
        kind: str = "maxsim",
        seed: int = 0,
        validation: Sequence[Pair] = (),
        on_progress: Progress | None = None,
        **overrides: Any,
    ) -> MaxSimRM:
        from transformers import AutoModel, AutoTokenizer

        from rmboost.rm.bradley_terry import bradley_terry_loss
        from rmboost.rm.local_models import minilm_dir

        cfg = with_overrides(MaxSimSettings(), seed, overrides)
        prepare_torch(cfg.seed)
        encoder = AutoModel.from_pretrained(minilm_dir())
        model = cls(build_net(encoder, cfg.scale), AutoTokenizer.from_pretrained(minilm_dir()), cfg)
        _freeze(encoder, cfg.freeze_layers)
        inputs, chosen, rejected = pair_inputs(pairs, model.encode)

        def batch_loss(idx: list[int]) -> Any:
            used = sorted({chosen[i] for i in idx} | {rejected[i] for i in idx})
            where = {u: k for k, u in enumerate(used)}
            scores = model.forward([inputs[u] for u in used])
            return bradley_terry_loss(
                scores[[where[chosen[i]] for i in idx]], scores[[where[rejected[i]] for i in idx]]
            )

        def validate() -> float:
            return validation_accuracy(*model.score_pairs(validation))

        loop = LoopSettings(cfg.epochs, cfg.lr, cfg.batch_size, cfg.weight_decay, cfg.warmup_ratio,
                            cfg.evals_per_epoch, cfg.patience, cfg.seed)
        params = [p for p in model.net.parameters() if p.requires_grad]
        model.curve = train_loop(params, pairs, batch_loss, loop, model.net,
                                 validate if validation else None, on_progress)
        return model

    def settings(self) -> dict[str, Any]:
        return asdict(self.cfg)

    def save_weights(self, directory: Path) -> None:
        from safetensors.torch import save_file

        self.net.encoder.save_pretrained(directory / "model")
        self.tokenizer.save_pretrained(directory / "model")
        head = {k: v.contiguous() for k, v in self.net.state_dict().items() if not k.startswith("encoder.")}
        save_file(head, str(directory / "head.safetensors"))

    @classmethod
    def from_dir(cls, directory: Path, settings: dict[str, Any]) -> MaxSimRM:
        offline()
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        cfg = MaxSimSettings(**settings)
        prepare_torch(cfg.seed)
        net = build_net(AutoModel.from_pretrained(directory / "model"), cfg.scale)
        net.load_state_dict(load_file(str(directory / "head.safetensors")), strict=False)
        return cls(net, AutoTokenizer.from_pretrained(directory / "model"), cfg)


def _freeze(encoder: Any, layers: int) -> None:
    """Stop training the embeddings and the lowest `layers` transformer layers (0: train all)."""
    if layers <= 0:
        return
    for p in encoder.embeddings.parameters():
        p.requires_grad = False
    for layer in encoder.encoder.layer[:layers]:
        for p in layer.parameters():
            p.requires_grad = False
