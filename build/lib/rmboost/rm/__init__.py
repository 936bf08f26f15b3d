"""Reward models: train a Bradley-Terry reward model on preference pairs, save it, load it, score
(prompt, response) pairs with it, and evaluate it on held-out pairs. torch and transformers are
imported only inside the functions that need them, so importing this package is cheap.

Python use: `RewardModel.load(DIR).score(prompts, responses)`; training is `rmboost.rm.train`.
"""

from rmboost.rm.base import RewardModel

__all__ = ["RewardModel"]
