"""Process-wide settings every torch-based reward model applies before it loads anything: no model
hub (HF_HUB_OFFLINE), fixed seeds, and a thread count that suits a small CPU machine."""

from __future__ import annotations

import os
import random


def offline() -> None:
    """Forbid hub downloads; must run before transformers or huggingface_hub is imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def quiet_transformers() -> None:
    """Keep transformers' progress bars and advice (e.g. on sequences longer than the model's maximum,
    which rmboost cuts itself) off the terminal; errors still show."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def prepare_torch(seed: int = 0) -> None:
    """Offline mode, quiet transformers, seeds for random/numpy/torch, torch threads = usable cores."""
    offline()
    import numpy as np
    import torch

    quiet_transformers()

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    threads = int(os.environ.get("RMBOOST_TORCH_THREADS", "0")) or len(os.sched_getaffinity(0))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
