"""Model selection for the TRL-trained kinds (`smollm2`, `hf:PATH`): TRL's `RewardConfig` as
rmboost sets it, and a trainer callback that, at every logging step, scores the validation pairs,
records the curve row (the same columns as `training_loop.py`), reports it through `on_progress`,
keeps a copy of the best step's trainable weights and stops training after `patience`
evaluations without a gain. Without validation pairs it records the loss only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback

from rmboost.rm.encoding import score_ids
from rmboost.rm.training_loop import Progress, validation_accuracy


def reward_config(cfg: Any, output_dir: str, every: int) -> Any:
    """TRL's RewardConfig for CPU training with a log (and an evaluation) every `every` steps."""
    from trl import RewardConfig

    return RewardConfig(
        output_dir=output_dir,
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        num_train_epochs=cfg.epochs,
        learning_rate=cfg.lr,
        lr_scheduler_type="linear",
        warmup_steps=0.1,
        seed=cfg.seed,
        data_seed=cfg.seed,
        max_length=None,
        bf16=False,
        activation_checkpointing=False,
        use_cpu=True,
        save_strategy="no",
        report_to="none",
        logging_steps=every,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


class BestValidation(TrainerCallback):  # type: ignore[misc]
    def __init__(
        self,
        held: Sequence[tuple[list[int], list[int]]],
        pad_id: int,
        patience: int,
        on_progress: Progress | None,
    ) -> None:
        self.held, self.pad_id, self.patience, self.on_progress = list(held), pad_id, patience, on_progress
        self.curve: list[dict[str, Any]] = []
        self.best: tuple[float, dict[str, Any]] | None = None
        self.since_best = 0
        self.start = time.perf_counter()

    def on_log(self, args: Any, state: Any, control: Any, model: Any = None, logs: Any = None, **kw: Any) -> None:
        if not logs or "loss" not in logs or model is None:
            return
        accuracy = None
        if self.held:
            ids = [c for c, _ in self.held] + [r for _, r in self.held]
            scores = score_ids(model, ids, self.pad_id, batch_size=8)
            model.train()
            accuracy = validation_accuracy(scores[: len(self.held)], scores[len(self.held) :])
            if self.best is None or accuracy > self.best[0]:
                trained = {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}
                self.best, self.since_best = (accuracy, trained), 0
            else:
                self.since_best += 1
                control.should_training_stop = 0 < self.patience <= self.since_best
        epoch = round(float(state.epoch or 0.0), 3)
        self.curve.append({"step": state.global_step, "epoch": epoch, "loss": round(float(logs["loss"]), 5),
                           "val_accuracy": accuracy, "seconds": round(time.perf_counter() - self.start, 1)})
        if self.on_progress is not None:
            self.on_progress(state.global_step, state.max_steps, float(logs["loss"]), accuracy)

    def restore(self, model: Any) -> None:
        """Put the best step's trainable weights back into `model` (nothing without validation)."""
        if self.best is None:
            return
        params = dict(model.named_parameters())
        for name, value in self.best[1].items():
            params[name].data.copy_(value)
