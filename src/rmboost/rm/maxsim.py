"""`maxsim`: a late-interaction (ColBERT-style) reward model on all-MiniLM-L6-v2, fine-tuned end
to end with the Bradley-Terry loss. It asks of every response token how well the evidence
supports it.

The response and its evidence (the prompt sentences that best match it, with the instruction and
the question: `evidence.py`) are encoded separately by the same MiniLM. Each response token takes
its highest cosine similarity to any evidence token (after a learned projection); the score is a
learned weighted mean of those maxima, scaled, plus a linear term on the mean response embedding
(what the response says regardless of the evidence). With the projection started at the identity,
the untrained model is already a soft version of the `overlap` baseline (it scores 0.573 on
QA-Feedback's 1,363 human test pairs before any training, as much as trained on Real: its accuracy
is the formula's, docs/RESULTS.md); training decides which tokens matter and how unsupported
content should cost. The lowest `freeze_layers` layers are not
trained, and training computes them once per distinct input (`maxsim_net.py`), so an epoch costs
about what the top layers cost. Cross-attention between response and evidence is left out: that
is `minilm`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rmboost.records import Pair, Prompt
from rmboost.rm.base import RewardModel, with_overrides
from rmboost.rm.encoding import PairEncoder, pad_batch
from rmboost.rm.runtime import offline, prepare_torch
from rmboost.rm.training_loop import LoopSettings, Progress, pair_inputs, train_loop, validation_accuracy


class StateCache:
    """The frozen layers' output per distinct input, least recently used out past `limit` entries
    (an entry is ~0.4 MB at the default lengths)."""

    def __init__(self, limit: int = 16_000) -> None:
        self.limit = limit
        self.entries: OrderedDict[Any, Any] = OrderedDict()

    def __contains__(self, key: Any) -> bool:
        return key in self.entries

    def get(self, key: Any) -> Any:
        self.entries.move_to_end(key)
        return self.entries[key]

    def put(self, key: Any, value: Any) -> None:
        self.entries[key] = value
        while len(self.entries) > self.limit:
            self.entries.popitem(last=False)


BOTTOM = StateCache()


@dataclass
class MaxSimSettings:
    # Defaults picked on a validation split of the QA-Feedback training questions (docs/RESULTS.md):
    # the frozen encoder with a trained head overfits after ~6 epochs, hence early stopping.
    max_length: int = 384  # evidence tokens, [CLS] and [SEP] included
    response_length: int = 192
    epochs: float = 15.0
    lr: float = 3e-5  # the trained encoder layers (none with freeze_layers=6)
    head_lr: float = 1e-3  # projection, gate, scale and the response term
    batch_size: int = 8
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    evals_per_epoch: float = 1.0
    patience: int = 5
    freeze_layers: int = 6
    scale: float = 10.0
    seed: int = 0


class MaxSimRM(RewardModel):
    kind = "maxsim"
    settings_type = MaxSimSettings

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
            for start in range(0, len(order), 256):
                idx = order[start : start + 256]
                states = self.bottom_states([inputs[i] for i in idx])
                for sub in range(0, len(idx), 16):
                    chunk = idx[sub : sub + 16]
                    scores = self.net.score_states(states[sub : sub + 16]).tolist()
                    for i, v in zip(chunk, scores, strict=True):
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
        from rmboost.rm.bradley_terry import bradley_terry_loss

        model = cls.untrained(kind, seed, **overrides)
        net, cfg = model.net, model.cfg
        inputs, chosen, rejected = pair_inputs(pairs, model.encode)
        cached = model.bottom_states(inputs)
        held, held_chosen, held_rejected = pair_inputs(validation, model.encode)
        held_states = model.bottom_states(held)

        def batch_loss(idx: list[int]) -> Any:
            used = sorted({chosen[i] for i in idx} | {rejected[i] for i in idx})
            where = {u: k for k, u in enumerate(used)}
            scores = net.score_states([cached[u] for u in used])
            return bradley_terry_loss(
                scores[[where[chosen[i]] for i in idx]], scores[[where[rejected[i]] for i in idx]]
            )

        def validate() -> float:
            import torch

            with torch.inference_mode():
                order = sorted(range(len(held)), key=lambda i: held_states[i][1].shape[0])
                scores = [0.0] * len(held)
                for start in range(0, len(order), 16):
                    idx = order[start : start + 16]
                    for i, v in zip(idx, net.score_states([held_states[i] for i in idx]).tolist(), strict=True):
                        scores[i] = v
            return validation_accuracy([scores[i] for i in held_chosen], [scores[i] for i in held_rejected])

        loop = LoopSettings(cfg.epochs, cfg.lr, cfg.batch_size, cfg.weight_decay, cfg.warmup_ratio,
                            cfg.evals_per_epoch, cfg.patience, cfg.seed)
        head = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("encoder.")]
        body = [p for n, p in net.named_parameters() if p.requires_grad and n.startswith("encoder.")]
        params = [{"params": body, "lr": cfg.lr}, {"params": head, "lr": cfg.head_lr}]
        model.curve = train_loop(params, pairs, batch_loss, loop, net, validate if validation else None,
                                 on_progress)
        return model

    @classmethod
    def untrained(cls, kind: str = "maxsim", seed: int = 0, **overrides: Any) -> MaxSimRM:
        """The formula `scale x mean_i max_j cos(h_i, e_j)` with a zero head: maxsim's step 0."""
        from transformers import AutoModel, AutoTokenizer

        from rmboost.rm.local_models import minilm_dir
        from rmboost.rm.maxsim_net import MaxSimNet

        cfg = with_overrides(MaxSimSettings(), seed, overrides)
        prepare_torch(cfg.seed)
        net = MaxSimNet(AutoModel.from_pretrained(minilm_dir()), cfg.scale, cfg.freeze_layers)
        return cls(net, AutoTokenizer.from_pretrained(minilm_dir()), cfg)

    def bottom_states(self, inputs: Sequence[tuple[list[int], list[int]]]) -> list[tuple[Any, Any]]:
        """For each input, the (response, evidence) hidden states after the frozen layers, unpadded.
        The frozen layers are the pretrained MiniLM's in every model, so their output is remembered
        per process (`BOTTOM`): an experiment trains many models on overlapping texts and scores all
        of them on the same test pairs."""
        import torch

        pad = self.tokenizer.pad_token_id
        keys = [(self.cfg.freeze_layers, tuple(r), tuple(e)) for r, e in inputs]
        todo = sorted({i for i, k in enumerate(keys) if k not in BOTTOM}, key=lambda i: len(inputs[i][1]))
        self.net.eval()
        with torch.inference_mode():
            for start in range(0, len(todo), 16):
                idx = todo[start : start + 16]
                sides = []
                for side in (0, 1):
                    ids, mask = pad_batch([inputs[i][side] for i in idx], pad)
                    sides.append((self.net.bottom(ids, mask), mask.sum(1).tolist()))
                for k, i in enumerate(idx):
                    BOTTOM.put(keys[i], tuple(h[k, : n[k]].clone() for h, n in sides))
        return [BOTTOM.get(k) for k in keys]

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

        from rmboost.rm.maxsim_net import MaxSimNet

        cfg = MaxSimSettings(**settings)
        prepare_torch(cfg.seed)
        net = MaxSimNet(AutoModel.from_pretrained(directory / "model"), cfg.scale, cfg.freeze_layers)
        net.load_state_dict(load_file(str(directory / "head.safetensors")), strict=False)
        return cls(net, AutoTokenizer.from_pretrained(directory / "model"), cfg)

