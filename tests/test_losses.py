"""The paper's losses (eq. 2, 3, 4) on hand-computed values."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from viewfinder.training.losses import generator_loss, pair_loss, ranker_loss, tie_share  # noqa: E402


def t(*v):
    return torch.tensor(v, dtype=torch.float32)


def test_eq2_hinge_for_unequal_and_absolute_difference_for_equal_pairs():
    f_a, f_b = t(3, 0.5, 1, 2), t(1, 0, 1, 2.5)
    label = torch.tensor([1, 2, 0, 0])
    # diffs 2, 0.5, 0, -0.5 -> hinge max(0, 1-2)=0, max(0, 2-0.5)=1.5; equal |0|=0, |-0.5|=0.5
    assert float(pair_loss(f_a, f_b, label)) == pytest.approx((0 + 1.5 + 0 + 0.5) / 4)
    # the equal-pair term alone is scaled by equal_weight
    assert float(pair_loss(f_a, f_b, label, equal_weight=0.1)) == pytest.approx((1.5 + 0.05) / 4)


def test_eq2_margin_scales_with_the_label():
    f_a, f_b = t(1, 1), t(0, 0)  # same difference of 1
    assert float(pair_loss(f_a, f_b, torch.tensor([1, 1]))) == 0.0  # margin 1 met
    assert float(pair_loss(f_a, f_b, torch.tensor([2, 2]))) == pytest.approx(1.0)  # margin 2 not


def test_eq3_adds_the_synthetic_pairs_of_unequal_pairs_only():
    f_a, f_b, f_bp = t(2, 1), t(0, 1), t(1.5, 3)
    label = torch.tensor([2, 0])
    # real pairs: max(0, 2-2)=0 and |0|=0. Unequal pair 0 only: R(B' >= B, 2) = max(0, 2-1.5)=0.5,
    # R(A >= B', 2) = max(0, 2-0.5)=1.5; each averaged over the batch of 2
    assert float(ranker_loss(f_a, f_b, f_bp, label, gamma=1.0)) == pytest.approx(0.5 * (0.5 + 1.5))
    assert float(ranker_loss(f_a, f_b, f_bp, label, gamma=0.0)) == pytest.approx(0.5 * 0.5)
    # all equal: nothing synthetic, eq. 3 reduces to eq. 2
    eq = torch.tensor([0, 0])
    assert float(ranker_loss(f_a, f_b, f_bp, eq, gamma=1.0)) == pytest.approx(float(pair_loss(f_a, f_b, eq)))


def test_eq4_flips_b_prime_above_a_with_l1_sparsity():
    f_a, f_bp = t(1, 2), t(2.5, 1)
    e = torch.tensor([[0.5, -0.5], [0.0, 1.0]])
    # R(B' >= A, 2): max(0, 2-1.5)=0.5, max(0, 2+1)=3 -> 1.75; lambda * mean ||e||_1 = 0.1 * 1
    assert float(generator_loss(f_a, f_bp, e)) == pytest.approx(1.75 + 0.1)
    assert float(generator_loss(f_a, f_bp, e, lam=0.0)) == pytest.approx(1.75)


def test_losses_send_gradients_the_right_way():
    f_a, f_b = t(0.0).requires_grad_(), t(0.0).requires_grad_()
    pair_loss(f_a, f_b, torch.tensor([2])).backward()
    assert float(f_a.grad) < 0 < float(f_b.grad)  # descending raises A and lowers B


def test_tie_share_counts_equal_scores():
    assert tie_share(t(1, 2, 3), t(1, 2.5, 3.00001)) == pytest.approx(2 / 3)
    assert tie_share(t(1, 2), t(3, 4)) == 0.0
