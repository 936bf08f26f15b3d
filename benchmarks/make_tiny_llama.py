"""Write a tiny randomly initialised Llama checkpoint (with the all-MiniLM-L6-v2 tokenizer) to a
folder, to exercise `rmboost train --rm hf:PATH` on a CPU. Its scores are meaningless by design:
it checks the pipeline, not the accuracy.

    .venv/bin/python benchmarks/make_tiny_llama.py DIR [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ["HF_HUB_OFFLINE"] = "1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from rmboost.rm.local_models import minilm_dir

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    config = LlamaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(args.seed)
    LlamaForCausalLM(config).save_pretrained(args.output)
    tokenizer.save_pretrained(args.output)
    print(f"wrote a tiny random Llama to {args.output}; train it with --rm hf:{args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
