"""Handing rmboost's pairs to the tools around it: a Hugging Face `datasets` folder with a dataset
card, pushed to the Hub if asked (`hf_dataset.py`, `dataset_card.py`, `provenance.py`), and RMBoost
as a step of a distilabel pipeline (`distilabel_rmboost.py`, the `rmboost[distilabel]` extra).

Nothing here is imported by `import rmboost`: `datasets` and distilabel load only when used.
"""
