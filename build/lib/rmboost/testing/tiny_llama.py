"""A tiny randomly initialised Llama checkpoint (with the all-MiniLM-L6-v2 tokenizer, which ships
offline), to exercise `rmboost train --rm hf:PATH` on a CPU. Its scores mean nothing by design."""

from __future__ import annotations

from pathlib import Path


def write_tiny_llama(path: str | Path, seed: int = 0, max_positions: int = 512) -> Path:
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
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return Path(path)
