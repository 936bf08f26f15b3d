"""Loaders for human-labelled preference data (QA-Feedback, Anthropic HH-RLHF, RewardBench, TRL pair
files). Each loader turns its source into `rmboost.records.Pair` objects, TRL's explicit-prompt
format, so the reward-model code only ever sees one shape. Generation of synthetic pairs is not here.
"""
