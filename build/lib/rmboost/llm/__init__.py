"""The LLM client methods talk to (`LLM`: a backend behind the request cache, with accounting) and
the request cache itself."""

from rmboost.llm.client import LLM

__all__ = ["LLM"]
