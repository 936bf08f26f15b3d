"""The old home of `generate`, kept so that `from rmboost.generate import generate, GenerateConfig`
goes on working; new code imports from `rmboost` or `rmboost.api`."""

from rmboost.api import agenerate, generate
from rmboost.generation.config import GenerateConfig
from rmboost.generation.summary import RunSummary

__all__ = ["GenerateConfig", "RunSummary", "agenerate", "generate"]
