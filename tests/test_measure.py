"""`rmboost.measure`: outcomes, the cluster bootstrap and the word rules, against cases computed by
hand (or, for the seed rule, against a plain loop written from the documented rule), never against
the code's own earlier output."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rmboost.measure.bootstrap import cluster_bootstrap, stratified_cluster_bootstrap
from rmboost.measure.outcomes import pair_outcome, pair_outcomes, pairwise_accuracy
from rmboost.measure.words import distinct_n, length_bias, overlap_share, word_count, words

# --- outcomes: won 1, lost 0, a tie half --------------------------------------------------------


def test_an_outcome_is_won_lost_or_half_on_a_tie() -> None:
    assert (pair_outcome(2, 1), pair_outcome(1, 2), pair_outcome(1, 1)) == (1.0, 0.0, 0.5)
    assert pair_outcomes([1, 0, 2], [0, 1, 2]).tolist() == [1.0, 0.0, 0.5]
    assert pair_outcomes([0.3, -1.0, 0.0], 0.0).tolist() == [1.0, 0.0, 0.5]  # margins against zero


def test_accuracy_of_a_win_a_loss_and_a_tie_is_one_half() -> None:
    assert pairwise_accuracy([2, 0, 1], [1, 1, 1]) == 0.5
    assert pairwise_accuracy([3, 3, 3, 3], [1, 1, 1, 3]) == (1 + 1 + 1 + 0.5) / 4
    assert pairwise_accuracy([5, 5], [5, 5]) == 0.5  # an untrained model that scores all the same
    assert math.isnan(pairwise_accuracy([], []))


# --- the cluster bootstrap ----------------------------------------------------------------------


def test_a_constant_outcome_has_a_point_interval() -> None:
    s = cluster_bootstrap([1.0] * 5, ["a", "a", "b", "c", "c"], n_boot=200)
    assert (s.share, s.ci_low, s.ci_high, s.n) == (1.0, 1.0, 1.0, 5)


def test_the_bootstrap_resamples_whole_clusters_not_pairs() -> None:
    # Question A has nine won pairs, B one lost pair. Resampling two questions gives AA (mean 1, 1/4),
    # AB (0.9, 1/2) or BB (0, 1/4): the 95% interval is [0, 1]. A pair bootstrap over the ten pairs
    # would almost never draw ten lost pairs, so its lower end would be far above 0.
    s = cluster_bootstrap([1.0] * 9 + [0.0], ["A"] * 9 + ["B"], n_boot=2000, seed=1)
    assert s.share == pytest.approx(0.9)
    assert (s.ci_low, s.ci_high) == (0.0, 1.0)
    # The middle 20% lies inside AB's mass: every AB resample has mean 0.9.
    assert cluster_bootstrap([1.0] * 9 + [0.0], ["A"] * 9 + ["B"], 2000, 1, level=0.2).ci_low == pytest.approx(0.9)


def test_the_seed_rule_is_numpy_default_rng_of_the_seed() -> None:
    values = [1.0, 0.0, 0.5, 1.0, 1.0, 0.0, 1.0]
    clusters = ["q2", "q1", "q1", "q3", "q2", "q4", "q3"]
    # A plain loop from the documented rule: clusters numbered in sorted order, resampled with
    # `np.random.default_rng(seed).integers`, the 2.5% and 97.5% quantiles of the resampled means.
    names = sorted(set(clusters))
    draws = np.random.default_rng(11).integers(0, len(names), size=(300, len(names)))
    means = []
    for draw in draws:
        picked = [v for k in draw for v, c in zip(values, clusters, strict=True) if c == names[k]]
        means.append(sum(picked) / len(picked))
    low, high = np.quantile(means, [0.025, 0.975])
    s = cluster_bootstrap(values, clusters, n_boot=300, seed=11)
    assert s.share == pytest.approx(4.5 / 7)
    assert (s.ci_low, s.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert cluster_bootstrap(values, clusters, 300, 11) == s  # the same seed, the same interval


def test_clusters_compare_as_text_and_must_match_the_values() -> None:
    assert cluster_bootstrap([1.0, 0.0], [1, "1"], 50).ci_low == 0.5  # one cluster: every resample is it
    with pytest.raises(ValueError, match="one cluster per value"):
        cluster_bootstrap([1.0, 0.0], ["a"])
    empty = cluster_bootstrap([], [])
    assert empty.n == 0 and math.isnan(empty.share) and math.isnan(empty.ci_low)


def test_the_stratified_bootstrap_weighs_each_stratum_the_same() -> None:
    longer = np.array([True, True, True, False])
    shorter = ~longer
    # Stratum means: 1 (three pairs) and 0 (one pair): the balanced mean is 0.5, not 3/4.
    s = stratified_cluster_bootstrap([1.0, 1.0, 1.0, 0.0], [longer, shorter], ["a", "b", "c", "d"], 500)
    assert s.share == 0.5 and s.n == 4
    # "Always the longer" reads only length: every resample with both strata scores exactly 0.5.
    assert (s.ci_low, s.ci_high) == (0.5, 0.5)
    mixed = stratified_cluster_bootstrap([1.0, 0.0, 1.0, 1.0], [longer, shorter], list("abcd"), 500)
    assert mixed.share == pytest.approx((2 / 3 + 1) / 2)
    none_shorter = stratified_cluster_bootstrap([1.0, 0.0], [np.array([True, True]), np.array([False, False])],
                                                ["a", "b"])
    assert math.isnan(none_shorter.share) and none_shorter.n == 2


# --- words --------------------------------------------------------------------------------------


def test_words_are_lower_cased_word_characters() -> None:
    assert words("Don't STOP, don't!") == ["don", "t", "stop", "don", "t"]
    assert word_count("a  b\nc,d") == 3  # whitespace words: "c,d" is one


def test_overlap_share_by_hand() -> None:
    prompt = "The Nile is the longest river in Africa."
    # response words: the, nile, flows, north -> the, nile found: 2 of 4
    assert overlap_share(prompt, "The Nile flows north.") == 0.5
    # repeats count: nile, nile, nile, river found, egypt not: 4 of 5
    assert overlap_share(prompt, "Nile nile NILE river Egypt") == 0.8
    assert overlap_share(prompt, "!!!") == 0.0


def test_distinct_n_by_hand() -> None:
    assert distinct_n(["a a a", "a b"], 1) == pytest.approx(2 / 5)
    assert distinct_n(["a a a", "a b"], 2) == pytest.approx(2 / 3)
    # bigrams: (the cat) (cat the) (the cat) | (the dog): 3 distinct of 4; no bigram spans two texts
    assert distinct_n(["the cat the cat", "The dog"], 2) == 0.75
    assert distinct_n(["the cat the cat", "The dog"], 1) == 0.5  # the, cat, dog of six words
    assert distinct_n(["a", "b"], 2) is None


def test_length_bias_counts_strictly_longer_chosen_responses() -> None:
    assert length_bias(["a b c", "a", "x y"], ["a b", "a b", "z w"]) == (2.0, 2.0, 1 / 3)
    assert length_bias([], []) == (None, None, None)
    with pytest.raises(ValueError):
        length_bias(["a"], [])
