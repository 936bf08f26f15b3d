"""`GenerateConfig`: every option of `rmboost generate`, each field carrying its help text (the CLI
is built from these fields by `cli/options.py`). Only the options; `generate.py` runs them."""

from __future__ import annotations

from dataclasses import dataclass

from rmboost.options import option

METHOD_CHOICES = ["rmboost", "rlaif", "west-of-n", "rlcd"]


@dataclass
class GenerateConfig:
    input: str = option("", "prompt file: JSONL (one record per line) or .parquet", required=True)
    output: str = option("", "pair file to write (appended to; a rerun resumes); with --engine ray a folder "
                         "of shards", required=True)
    method: str = option("rmboost", "how pairs are made", choices=METHOD_CHOICES)
    backend: str = option("llamacpp", "LLM backend: llamacpp (embedded SmolLM2), openai (any OpenAI-compatible "
                          "server), vllm, fake")
    model: str | None = option(None, "model name (openai/vllm) or GGUF path (llamacpp); default: the backend's own")
    base_url: str | None = option(None, "server URL for --backend openai, e.g. http://127.0.0.1:8000/v1 (key from "
                                  "OPENAI_API_KEY); with --engine ray a comma-separated list of replicas, spread "
                                  "over the shards round-robin")
    backend_arg: list[str] = option([], "extra backend option KEY=VALUE, repeatable (e.g. n_ctx=4096, "
                                    "n_threads=2, timeout=60)")
    task: str = option("qa", "task whose aspects and prompt layout to use", choices=["qa", "chat", "summarization"])
    aspects: str | None = option(None, "YAML file replacing the task's aspects (and optionally its templates)")
    template: str | None = option(None, "YAML file replacing the method's prompt templates")
    aspects_per_pair: int | None = option(None, "aspects per RMBoost pair; default a random 1-3")
    length_control: bool = option(False, "RMBoost: ask y2 to stay within 20%% of y1's length")
    verify: bool = option(False, "RMBoost: drop pairs whose label the LLM judge contradicts in both orders")
    n: int = option(4, "West-of-N: samples per prompt")
    scorer: str = option("llm", "West-of-N: 'llm' or a reward-model folder saved by rmboost train")
    keep_disagreements: bool = option(False, "RLAIF: keep pairs whose two judge orders disagree (first order wins); "
                                      "the same as --judge-decision first")
    judge_decision: str = option("agree", "RLAIF: agree keeps a pair only when both judge orders pick the same "
                                 "response; first lets the first order decide; average (Lee et al. 2023) averages "
                                 "the verdict probability over both orders, cancelling a position bias (needs a "
                                 "backend that returns logprobs)", choices=["agree", "first", "average"])
    seed: int = option(0, "seed for labels, aspects and sampling")
    temperature: float = option(0.7, "sampling temperature")
    top_p: float = option(0.95, "nucleus sampling")
    max_tokens: int = option(384, "maximum tokens per answer; a truncated answer is a failure")
    concurrency: int = option(4, "prompts in flight at once")
    limit: int | None = option(None, "only the first N valid prompts")
    format: str = option("jsonl", "output format", choices=["jsonl", "parquet"])
    cache_dir: str | None = option(None, "where the request cache lives (default ~/.cache/rmboost or "
                                   "$RMBOOST_CACHE_DIR)")
    cache: bool = option(True, "cache every LLM call on disk")
    on_error: str = option("fail", "bad input row: stop with an error, or skip it into the failures file",
                           choices=["fail", "skip"])
    progress: bool = option(True, "show progress")
    engine: str = option("local", "local: this process; ray: shard the prompts over a Ray cluster (needs "
                         "ray[data]; --output is then a folder of shards)", choices=["local", "ray"])
    ray_address: str | None = option(None, "--engine ray: cluster to join, e.g. auto or ray://head:10001; "
                                     "default $RAY_ADDRESS or a new local Ray")
    workers: int | None = option(None, "--engine ray: shards run at once; default one per --base-url replica "
                                 "(openai), one per GPU (vllm), else one per CPU")
    shard_size: int | None = option(None, "--engine ray: prompts per output shard; the folder's first run fixes it "
                                    "(default 1000)")
