"""rmboost: synthetic preference data for reward models, and the reward models themselves.

The Python API mirrors the CLI: `generate(GenerateConfig(...))` is `rmboost generate ...`.
Importing rmboost does not import torch or any backend library.
"""

from rmboost.api import agenerate, generate
from rmboost.backends import Backend, ChatRequest, Completion, create_backend
from rmboost.generation.config import GenerateConfig
from rmboost.generation.summary import RunSummary
from rmboost.methods import create_method
from rmboost.prompts.tasks import Task, load_task
from rmboost.records import Failure, Pair, PromptRecord

__version__ = "0.1.0"

__all__ = [
    "Backend", "ChatRequest", "Completion", "create_backend", "GenerateConfig", "RunSummary", "agenerate",
    "generate", "create_method", "Failure", "Pair", "PromptRecord", "Task", "load_task",
]
