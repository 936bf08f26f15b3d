"""RMBoost's two-step generation written with distilabel 1.5, for bench_orchestration.py.

It runs inside its own venv (distilabel and rmboost do not share one), so it imports nothing from
rmboost: the rows arrive ready-made as JSON (`messages` for y1, `rewrite` for the y2 instruction).
Pipeline: LoadDataFromDicts -> ChatGeneration (y1) -> a step appending y1 and the rewrite
instruction -> ChatGeneration (y2). `input_batch_size` is the concurrency, since distilabel sends
one batch of a step's rows at once. Prints one JSON line: pairs made and seconds in `run()`.
Left out: labels, aspects and parsing (negligible next to the requests). No `from __future__ import
annotations` here: distilabel reads the `StepInput` hint at run time.
"""

import argparse
import json
import time

from distilabel.models import OpenAILLM
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts, StepInput, step
from distilabel.steps.tasks import ChatGeneration


# Module level: distilabel re-creates steps in its worker processes by module and name.
@step(inputs=["messages", "y1", "rewrite"], outputs=["messages"])
def AddRewrite(inputs: StepInput):  # noqa: N802 - distilabel names steps like classes
    for row in inputs:
        row["messages"] = [
            *row["messages"],
            {"role": "assistant", "content": row["y1"] or ""},
            {"role": "user", "content": row["rewrite"]},
        ]
    yield inputs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=384)
    args = parser.parse_args()

    with open(args.rows, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]

    def llm() -> OpenAILLM:
        return OpenAILLM(
            model="stub",
            base_url=args.base_url,
            api_key="not-needed",
            max_retries=0,
            generation_kwargs={"max_new_tokens": args.max_tokens, "temperature": 0.7, "top_p": 0.95},
        )

    start = time.monotonic()
    with Pipeline(name="rmboost-bench") as pipeline:
        load = LoadDataFromDicts(data=rows, batch_size=args.concurrency)
        y1 = ChatGeneration(
            llm=llm(), input_batch_size=args.concurrency, output_mappings={"generation": "y1"}
        )
        add = AddRewrite(input_batch_size=args.concurrency)
        y2 = ChatGeneration(
            llm=llm(), input_batch_size=args.concurrency, output_mappings={"generation": "y2"}
        )
        load >> y1 >> add >> y2
    build = time.monotonic() - start
    start = time.monotonic()
    distiset = pipeline.run(use_cache=False)
    seconds = time.monotonic() - start
    out = distiset["default"]["train"]
    pairs = sum(1 for y in out["y2"] if y)
    print(json.dumps({"pairs": pairs, "seconds": seconds, "build_seconds": build}), flush=True)


if __name__ == "__main__":
    main()
