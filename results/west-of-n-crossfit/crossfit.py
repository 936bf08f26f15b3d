"""Cross-fitted West-of-N over the given responses: two halves of the training questions by a hash
of the question id; each half's four predictions are scored by a `features` model trained on the
other half's Real pairs only, so no scorer has seen the human labels it is checked against."""
import hashlib, json, sys
from pathlib import Path
out = Path(sys.argv[1]); pool = Path(sys.argv[2]); real = Path(sys.argv[3])
half = lambda qid: int(hashlib.sha256(qid.encode()).hexdigest(), 16) % 2
for h in (0, 1):
    with (out / f"pool_{h}.jsonl").open("w") as f:
        for line in pool.open():
            if half(json.loads(line)["id"]) == h:
                f.write(line)
    with (out / f"real_{h}.jsonl").open("w") as f:
        for line in real.open():
            if half(json.loads(line)["question_id"]) == h:
                f.write(line)
