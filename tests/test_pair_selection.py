"""Adaptive pair choice: few comparisons, the true best found, undo, resume, honest progress."""
import numpy as np
import pytest

from viewfinder.pair_selection import Comparison, PairSelector, choice_to_comparison


def oracle_label(truth, a, b, equal_within=0.0):
    """A consistent user: the higher true value wins; close values are 'equal'."""
    d = truth[a] - truth[b]
    if abs(d) <= equal_within:
        return Comparison(a, b, 0)
    return Comparison(a, b, 2 if d > 2 else 1) if d > 0 else Comparison(b, a, 2 if d < -2 else 1)


def run(sel, truth, equal_within=0.0):
    asked = []
    while (pair := sel.next_pair()) is not None:
        assert pair[0] < pair[1]  # shown in capture order
        assert frozenset(pair) not in asked  # never the same pair twice
        asked.append(frozenset(pair))
        sel.add(oracle_label(truth, *pair, equal_within))
    return len(asked)


@pytest.mark.parametrize("prior_kind", ["none", "random", "good", "noisy", "reversed"])
def test_at_most_2n_comparisons_and_the_true_best_is_found(prior_kind):
    rng = np.random.default_rng(1)
    counts = []
    for trial in range(40):
        n = int(rng.integers(1, 16))
        truth = rng.permutation(n).astype(float)
        prior = {"none": None, "random": rng.normal(size=n), "good": truth,
                 "noisy": truth + rng.normal(0, 2, n), "reversed": -truth}[prior_kind]
        sel = PairSelector(n, prior)
        k = run(sel, truth)
        assert k <= 2 * n
        assert sel.done and sel.best == int(np.argmax(truth))
        assert sel.remaining == 0
        if n == 11:
            counts.append(k)
    if prior_kind == "good":  # the app's prediction agrees: one chain, n - 1 comparisons
        assert counts and all(c == 10 for c in counts)


def test_an_11_frame_burst_needs_far_fewer_than_55_and_gets_its_top_3():
    rng = np.random.default_rng(2)
    counts = []
    for _ in range(50):
        truth = rng.permutation(11).astype(float)
        sel = PairSelector(11, truth + rng.normal(0, 2, 11))  # a roughly right prediction
        counts.append(run(sel, truth))
        assert sel.ranking() == list(np.argsort(-truth)[:3])
    assert max(counts) <= 22 and np.mean(counts) < 15


def test_ties_and_a_contradicting_user_still_end():
    truth = np.array([1.0, 3.0, 3.0, 0.0, 2.0, 3.0])
    sel = PairSelector(6, [0.5, 0.1, 0.2, 0.3, 0.9, 0.0])
    run(sel, truth)
    assert sel.done and truth[sel.best] == 3.0
    rng = np.random.default_rng(3)
    sel = PairSelector(9, rng.normal(size=9))
    while (pair := sel.next_pair()) is not None:  # random answers, cycles included
        a, b = pair if rng.random() < 0.5 else pair[::-1]
        sel.add(Comparison(a, b, int(rng.integers(0, 3))))
    assert len(sel.labels) <= 18


def test_undo_and_resume_give_back_the_same_question():
    truth = np.array([2.0, 0.0, 5.0, 1.0, 4.0, 3.0, 6.0])
    prior = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    sel = PairSelector(7, prior)
    seen = []
    for _ in range(4):
        pair = sel.next_pair()
        seen.append((pair, sel.remaining))
        sel.add(oracle_label(truth, *pair))
    for pair, remaining in reversed(seen):
        assert sel.undo() is not None
        assert (sel.next_pair(), sel.remaining) == (pair, remaining)
    assert sel.undo() is None
    partial = PairSelector(7, prior)
    for _ in range(3):
        partial.add(oracle_label(truth, *partial.next_pair()))
    resumed = PairSelector(7, prior, labels=partial.labels)  # e.g. from the database
    assert resumed.next_pair() == partial.next_pair()


def test_remaining_counts_down_when_the_user_agrees_with_the_app():
    prior = np.array([0.3, 0.9, 0.1, 0.5, 0.7])
    sel = PairSelector(5, prior)
    left = [sel.remaining]
    while (pair := sel.next_pair()) is not None:
        sel.add(oracle_label(prior * 10, *pair))
        left.append(sel.remaining)
    assert left == [4, 3, 2, 1, 0]


def test_the_five_keys():
    assert choice_to_comparison(3, 7, 1) == Comparison(3, 7, 2)
    assert choice_to_comparison(3, 7, 2) == Comparison(3, 7, 1)
    assert choice_to_comparison(3, 7, 3) == Comparison(3, 7, 0)
    assert choice_to_comparison(3, 7, 4) == Comparison(7, 3, 1)
    assert choice_to_comparison(3, 7, 5) == Comparison(7, 3, 2)
    with pytest.raises(ValueError):
        choice_to_comparison(3, 7, 6)
    with pytest.raises(ValueError):
        PairSelector(3).add(Comparison(0, 3, 1))
