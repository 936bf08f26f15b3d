"""The Bradley-Terry loss for reward models: P(chosen beats rejected) = sigmoid(r_chosen - r_rejected),
trained by minimising the mean negative log-likelihood. Same definition as TRL's RewardTrainer,
without its optional margin and reward-centring terms."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """`-mean(log sigmoid(chosen - rejected))` over a batch of reward pairs."""
    import torch.nn.functional as F

    return -F.logsigmoid(chosen - rejected).mean()
