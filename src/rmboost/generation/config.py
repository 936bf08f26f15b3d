"""`GenerateConfig`: every option of `rmboost generate`, each field carrying its help text (the CLI
is built from these fields by `options.py`). Only the options; `generate.py` runs them."""

from __future__ import annotations

from dataclasses import dataclass

from rmboost.methods import METHODS
from rmboost.options import option
from rmboost.prompts.tasks import BUILTIN_TASKS

METHOD_CHOICES = list(METHODS)  # the methods' registry (`methods/__init__.py`)


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
    task: str = option("qa", "task whose aspects and prompt layout to use", choices=list(BUILTIN_TASKS))
    aspects: str | None = option(None, "YAML file replacing the task's aspects (and optionally its templates)")
    template: str | None = option(None, "YAML file replacing the method's prompt templates")
    aspects_per_pair: int | None = option(None, "aspects per RMBoost pair; default a random 1-3",
                                           methods=("rmboost",))
    length_control: bool = option(False, "RMBoost: ask y2 to stay within 20%% of y1's length", methods=("rmboost",))
    verify: bool = option(False, "RMBoost: drop pairs whose label the LLM judge contradicts in both orders",
                          methods=("rmboost",))
    n: int = option(4, "West-of-N: samples per prompt", methods=("west-of-n",))
    scorer: str = option("llm", "West-of-N: 'llm' or a reward-model folder saved by rmboost train",
                         methods=("west-of-n",))
    keep_disagreements: bool = option(False, "RLAIF: keep pairs whose two judge orders disagree (first order wins); "
                                      "the same as --judge-decision first", methods=("rlaif",))
    judge_decision: str = option("agree", "RLAIF: agree keeps a pair only when both judge orders pick the same "
                                 "response; first lets the first order decide; average (Lee et al. 2023) averages "
                                 "the verdict probability over both orders, cancelling a position bias (needs a "
                                 "backend that returns logprobs); with --method rmboost it needs --verify",
                                 choices=["agree", "first", "average"], methods=("rlaif", "rmboost"))
    attempts: int = option(3, "tries per stage: a response that fails a content check (empty, a lead-in, a "
                           "comment, identical, an echo, a copy, truncated) is asked for again with a fresh seed, "
                           "up to this many times, before the prompt is a failure")
    pairs_per_prompt: int = option(1, "pairs made from each prompt, each with its own y1 sample, label and aspects "
                                   "(ids <id>#<k>); labels stay balanced over the run")
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
                                     "default $RAY_ADDRESS or a new local Ray", engines=("ray",))
    workers: int | None = option(None, "--engine ray: shards run at once; default one per --base-url replica "
                                 "(openai), one per GPU (vllm), else one per CPU", engines=("ray",))
    shard_size: int | None = option(None, "--engine ray: prompts per output shard; the folder's first run fixes it "
                                    "(default 1000)", engines=("ray",))
    append: bool = option(False, "resume an output that was made with other settings, mixing the two on purpose "
                          "(the settings file keeps a history; each row's `settings` column names its own)")
    progress_every: float = option(15.0, "when stderr is not a terminal: seconds between progress lines")
    price_in: float | None = option(None, "USD per million prompt tokens, for the cost in the progress and summary")
    price_out: float | None = option(None, "USD per million completion tokens")
    prices: str | None = option(None, "YAML price table: model name -> {in: USD, out: USD} per million tokens")


# What the settings fingerprint of an output is made of (`generation/settings.py`): every field that
# changes what a row contains, and none of the others. Every field must be in one of the two, so a
# new option is classified when it is added (tests/test_fingerprint.py checks).
ROW_SETTINGS = ("method", "backend", "model", "task", "aspects", "template", "aspects_per_pair", "length_control",
                "verify", "n", "scorer", "keep_disagreements", "judge_decision", "seed", "temperature", "top_p",
                "max_tokens", "attempts", "pairs_per_prompt")
# backend_arg is here because only the options a backend declares in `output_options` count.
RUN_SETTINGS = ("input", "output", "base_url", "backend_arg", "concurrency", "limit", "format", "cache_dir", "cache",
                "on_error", "progress", "engine", "ray_address", "workers", "shard_size", "append",
                "progress_every", "price_in", "price_out", "prices")
