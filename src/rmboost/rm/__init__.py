"""Reward models: train a Bradley-Terry reward model on preference pairs, save it, load it, score
(prompt, response) pairs with it, and evaluate it on held-out pairs. torch and transformers are
imported only inside the functions that need them, so importing this package is cheap.

Python use: `rmboost.rm.load(DIR).score(prompts, responses)` (a prompt is a string or a list of
messages; one reward per response); training is `rmboost.rm.train`; scoring and reranking whole
files, resumably, is `score_file` and `rerank_file` (what `rmboost score` and `rmboost rerank` run).
"""

from pathlib import Path

from rmboost.rm.base import RewardModel
from rmboost.rm.rerank import rerank_file
from rmboost.rm.score_file import score_file


def load(directory: str | Path) -> RewardModel:
    """The reward model saved in `directory` by `rmboost train` (any kind)."""
    return RewardModel.load(directory)


__all__ = ["RewardModel", "load", "rerank_file", "score_file"]
