"""The paper's metrics (section 5.1) on bursts small enough to check by hand."""
import math
from pathlib import Path

import numpy as np
import pytest

from viewfinder.dataset import BurstFolder, Dataset, Pair
from viewfinder.metrics import (BurstLabels, best_index, burst_labels, evaluate_burst,
                                expected_random, summarize)
from viewfinder.scoring.baselines import MiddleScorer, RandomScorer

# frames A B C D; A >> B, A > C, B == C; D has no pairs (unknown).
# frames labelled better: A 0, B 1 (A), C 1 (A), D 0
ABCD = BurstLabels("abcd", ("A", "B", "C", "D"), ((0, 1, 2), (0, 2, 1), (1, 2, 0)))
# e0 > e2, e1 >> e2, e0 == e1: e2 has two frames labelled better
E = BurstLabels("e", ("e0", "e1", "e2"), ((0, 2, 1), (1, 2, 2), (0, 1, 0)))


def test_frames_labelled_better_are_the_a_of_rows_with_label_above_zero():
    assert ABCD.n_better.tolist() == [0, 1, 1, 0]
    assert E.n_better.tolist() == [0, 0, 2]


def test_pairwise_counts_only_non_equal_pairs_and_top1_hits_an_unlabelled_frame():
    r = evaluate_burst(ABCD, [1.0, 2.0, 0.0, 5.0])
    # A vs B: 1 - 2 < 0 wrong; A vs C: 1 - 0 > 0 right; B vs C is equal, not scored
    assert (r.correct, r.n_pairs) == (1.0, 2)
    assert r.pick == 3  # D: nothing is labelled better (its pairs are unknown)
    assert r.hits == (1.0, 1.0, 1.0)


def test_equal_predicted_scores_count_as_wrong_and_the_frame_nearer_the_middle_wins():
    r = evaluate_burst(ABCD, [3.0, 3.0, 1.0, 0.0])
    assert r.pick == 1  # A and B tie; B is nearer the middle frame (index 2)
    assert (r.correct, r.n_pairs) == (1.0, 2)  # A == B predicted: wrong; A > C right
    assert best_index([2.0, 0.0, 0.0, 0.0, 2.0]) == 0  # equally near: the earlier
    assert best_index([2.0, 2.0, 0.0, 0.0, 2.0]) == 1
    assert best_index([2.0, 0.0, 2.0], shutter_pos=2) == 2
    assert best_index([float("nan"), 1.0, float("nan")]) == 1


def test_best_index_agrees_with_the_app_ranking():
    from viewfinder.frames import Burst, Frame, Score
    from viewfinder.ranking import rank

    rng = np.random.default_rng(2)
    for n in (1, 2, 5, 11):
        values = rng.integers(0, 3, n).astype(float)  # many ties
        frames = tuple(Frame(i, i, np.zeros((1, 1, 3), np.uint8)) for i in range(n))
        burst = Burst(frames, shutter_pos=n // 2, press_t_ns=0)
        assert rank(burst, [Score(v) for v in values]).best.pos == best_index(values)


def test_top_k_counts_frames_labelled_better_than_the_pick():
    assert evaluate_burst(ABCD, [0.0, 5.0, 1.0, 0.0]).hits == (0.0, 1.0, 1.0)  # B: 1 better
    assert evaluate_burst(E, [0.0, 0.0, 1.0]).hits == (0.0, 0.0, 1.0)  # e2: 2 better
    # a label-0 row with the pick as b does not count against it
    assert evaluate_burst(E, [0.0, 1.0, -1.0]).hits == (1.0, 1.0, 1.0)


def test_random_is_the_exact_expectation():
    r = expected_random(ABCD)
    assert r.pick is None
    assert (r.correct, r.n_pairs) == (1.0, 2)  # half of the two non-equal pairs
    assert r.hits == (0.5, 1.0, 1.0)
    assert expected_random(E).hits == pytest.approx((2 / 3, 2 / 3, 1.0))


def test_random_expectation_matches_the_average_over_all_picks():
    rng = np.random.default_rng(1)
    draws = [evaluate_burst(E, rng.permutation(3).astype(float)) for _ in range(3000)]
    mean_top1 = np.mean([d.hits[0] for d in draws])
    mean_pair = np.sum([d.correct for d in draws]) / np.sum([d.n_pairs for d in draws])
    assert mean_top1 == pytest.approx(2 / 3, abs=0.03)
    assert mean_pair == pytest.approx(0.5, abs=0.03)


def test_summary_pools_pairs_over_bursts_and_averages_hits_over_bursts():
    r1 = evaluate_burst(ABCD, [1.0, 2.0, 0.0, 5.0])  # 1/2 pairs, top1 hit
    r2 = evaluate_burst(E, [0.0, 0.0, 1.0])  # 0/2 pairs, hits only top3
    s = summarize([r1, r2], n_boot=200)
    assert s["pairwise"].value == pytest.approx(1 / 4)
    assert s["top1"].value == pytest.approx(0.5)
    assert s["top3"].value == pytest.approx(1.0)
    assert s["top3"].lo == s["top3"].hi == 1.0  # every resample hits
    for e in s.values():
        assert e.lo <= e.value <= e.hi


def test_bootstrap_is_reproducible_and_narrows_with_more_bursts():
    rng = np.random.default_rng(0)
    few = [evaluate_burst(ABCD, rng.random(4)) for _ in range(10)]
    many = [evaluate_burst(ABCD, rng.random(4)) for _ in range(400)]
    assert summarize(few, seed=3) == summarize(few, seed=3)
    width = lambda s: s["top1"].hi - s["top1"].lo  # noqa: E731
    assert width(summarize(many)) < width(summarize(few))


def test_summary_of_nothing_is_nan():
    s = summarize([])
    assert math.isnan(s["pairwise"].value) and math.isnan(s["top1"].value)


def test_burst_labels_skip_bursts_without_pairs():
    ds = Dataset(Path("ds"), (BurstFolder("x", (Path("a.png"),)),
                              BurstFolder("y", (Path("a.png"), Path("b.png")))),
                 (Pair("y", "b.png", "a.png", 1),))
    labs = burst_labels(ds)
    assert [lab.burst for lab in labs] == ["y"]
    assert labs[0].pairs == ((1, 0, 1),)
    assert labs[0].n_better.tolist() == [1, 0]


def test_middle_prefers_the_frame_nearest_the_shutter_then_earlier():
    values = [s.value for s in MiddleScorer().score_burst(11)]
    order = sorted(range(11), key=lambda i: -values[i])
    assert order[:5] == [5, 4, 6, 3, 7]
    assert len(set(values)) == 11
    assert best_index([s.value for s in MiddleScorer().score_burst(10)]) == 5
    assert best_index([s.value for s in MiddleScorer().score_burst(11, shutter_pos=8)]) == 8


def test_random_scorer_draws_distinct_seeded_scores():
    a = [s.value for s in RandomScorer(seed=4).score_burst(11)]
    b = [s.value for s in RandomScorer(seed=4).score_burst(11)]
    assert a == b and len(set(a)) == 11
