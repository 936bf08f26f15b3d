"""maxsim's untrained (step-0) score: the formula it starts as, on a seeded sample of the test pairs
and on the test corrections, with the length-balanced accuracy."""
import random, sys
from rmboost.data.qa_feedback import load_questions, pairs
from rmboost.data.qa_corrections import load_corrections
from rmboost.rm.evaluate import evaluate, length_balanced
from rmboost.rm.train import untrained_reward_model
D = "../shared/data/qa_feedback/dev_feedback.json"
n = int(sys.argv[1])
test = sorted(random.Random(0).sample(pairs(load_questions(D, "test")), n), key=lambda p: p.id)
corr = load_corrections(D, "test")
model = untrained_reward_model("maxsim", seed=0)
for name, ps in (("human-pairs", test), ("human-corrections", corr)):
    r = evaluate(model, ps, n_boot=1000, seed=0)
    lb = length_balanced(r.wins, ps, 1000, 0)
    print(f"{name}: n={r.n} accuracy {r.accuracy:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}] length-balanced {lb.accuracy:.3f}")
