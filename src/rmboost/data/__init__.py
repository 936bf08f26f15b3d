"""Loaders for human-labelled preference data (QA-Feedback, Anthropic HH-RLHF, RewardBench, TRL pair
files, OpenAI's TL;DR comparisons) and GPT-4-rated UltraFeedback. Each loader turns its source into
`rmboost.records.Pair` objects, TRL's explicit-prompt format, so the reward-model code only ever sees
one shape. `formats.py` is the one registry of these formats (loader, task, the experiment's split
rule, yardsticks) that every command reads. Generation of synthetic pairs is not here.
"""
