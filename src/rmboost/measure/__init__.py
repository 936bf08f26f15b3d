"""Measurement, on the ground floor: the rules by which rmboost counts, each written once so that
`data/`, `rm/`, `experiment/` and `report/` all count the same way.

- `outcomes.py`: the outcome of one preference (1 won, 0 lost, 0.5 on a tie) and the accuracy of many.
- `bootstrap.py`: the percentile bootstrap over question clusters, with the one seed rule every
  interval of rmboost uses, for a plain mean and for a mean of stratum means (length-balanced).
- `words.py`: what a word is (lower-cased `\\w+` for overlap, whitespace for lengths and n-grams),
  the overlap share, distinct-n and the length bias of a set of pairs.
- `interval_text.py`: how an estimate and its interval, or a paired difference, is written in text.

Left out: anything that knows a pair record, a prompt's layout or a file. Callers turn their
records into plain numbers, texts and cluster keys first (`rm/evaluate.py` keys a pair by its
prompt, `data/human_labels.py` by its question), so this package imports nothing of rmboost.
"""
