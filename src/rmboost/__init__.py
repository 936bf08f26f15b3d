"""rmboost: synthetic preference data for reward models, and the reward models themselves.

The Python API mirrors the CLI: `generate(GenerateConfig(...))` is `rmboost generate ...`.
Importing rmboost does not import torch or any backend library.
"""

from rmboost.backends import Backend, ChatRequest, Completion, create_backend
from rmboost.generate import GenerateConfig, RunSummary, agenerate, generate
from rmboost.methods import create_method
from rmboost.records import Failure, Pair, PromptRecord
from rmboost.tasks import Task, load_task

__version__ = "0.1.0"

__all__ = [
    "Backend", "ChatRequest", "Completion", "create_backend", "GenerateConfig", "RunSummary", "agenerate",
    "generate", "create_method", "Failure", "Pair", "PromptRecord", "Task", "load_task",
]
