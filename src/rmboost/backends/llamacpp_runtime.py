"""Importing llama-cpp-python the way the embedded model runs best on a shared machine: with the
OpenMP threads of its CPU backend waiting by sleeping, not spinning.

llama.cpp's CPU backend runs each decode step as one OpenMP parallel region. Between two steps the
decoder's Python thread samples and builds the next batch; by default (libgomp) the idle OpenMP
thread spins meanwhile, and on 2 cores shared with other jobs it takes the core that thread needs.
Measured here under load 7 (docs/PERFORMANCE.md): 2 threads read prompts 2-3x faster with
`OMP_WAIT_POLICY=PASSIVE`, and a judged RLAIF run took 8 s instead of 55 s. A sleeping thread costs
one wake-up per step (microseconds against a step of milliseconds). libgomp reads the variable once,
when it is loaded, which is when llama_cpp is imported; so it is set for that import only (unless
the user set it), and other OpenMP users loaded later (torch) see the environment as it was.

Left out: llama.cpp's own spin barriers inside a step (not configurable from here).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rmboost.errors import UserError

POLICY = "OMP_WAIT_POLICY"


def import_llama_cpp() -> Any:
    """The `llama_cpp` module, imported with `OMP_WAIT_POLICY=PASSIVE` unless it was set already."""
    if "llama_cpp" in sys.modules:
        return sys.modules["llama_cpp"]
    ours = POLICY not in os.environ
    if ours:
        os.environ[POLICY] = "PASSIVE"
    try:
        import llama_cpp
    except ImportError as e:
        raise UserError("the llamacpp backend needs llama-cpp-python (see the Makefile for the build)") from e
    finally:
        if ours:
            os.environ.pop(POLICY, None)
    return llama_cpp
