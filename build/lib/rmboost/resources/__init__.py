"""Data files shipped with rmboost: task definitions (aspects) and prompt templates."""
