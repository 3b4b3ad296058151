"""The paper's losses (section 3.3 and 4.1) as small pure functions of scores. torch only.

Scores are f(x) per image; a pair (A, B) has A at least as good as B and a label
Delta(y) in {0, 1, 2} (eq. 1). Every function returns the mean over the batch.
"""
from __future__ import annotations

import torch


def pair_loss(f_a: torch.Tensor, f_b: torch.Tensor, label: torch.Tensor,
              equal_weight: float = 1.0) -> torch.Tensor:
    """Eq. 2, the margin-rescaled pair loss R(A >= B, Delta(y)):
    max(0, Delta(y) - (f(A) - f(B))) for unequal pairs (Delta > 0), |f(A) - f(B)| for equal pairs.

    `equal_weight` scales the equal-pair term (1 is the paper's loss); training ramps it up
    from a small value so the equal term cannot flatten a fresh network to a constant score.
    """
    diff = f_a - f_b  # (N,)
    label = label.to(diff.dtype)
    hinge = torch.clamp(label - diff, min=0)
    tie = diff.abs() * equal_weight
    return torch.where(label > 0, hinge, tie).mean()


def ranker_loss(f_a: torch.Tensor, f_b: torch.Tensor, f_b_prime: torch.Tensor,
                label: torch.Tensor, gamma: float, equal_weight: float = 1.0) -> torch.Tensor:
    """Eq. 3, the ranker's loss with G's synthetic B' (the enhanced lower-quality image):
    R(A >= B, Delta) + R(B' >= B, 2) + gamma * R(A >= B', 2).

    The synthetic terms apply to unequal pairs only: for an equal pair there is no "worse" B to
    enhance, and margins of 2 on both sides of B' would contradict f(A) = f(B).
    """
    real = pair_loss(f_a, f_b, label, equal_weight)
    unequal = label > 0
    if not bool(unequal.any()):
        return real
    two = torch.full_like(f_a[unequal], 2.0)
    up = pair_loss(f_b_prime[unequal], f_b[unequal], two)
    down = pair_loss(f_a[unequal], f_b_prime[unequal], two)
    w = unequal.float().mean()  # the synthetic terms are averaged over the whole batch
    return real + w * (up + gamma * down)


def generator_loss(f_a: torch.Tensor, f_b_prime: torch.Tensor, e: torch.Tensor,
                   lam: float = 0.1) -> torch.Tensor:
    """Eq. 4, G's loss: R(B' >= A, 2) + lambda * ||e||_1, with e the residual x' - x (N, C')."""
    flip = pair_loss(f_b_prime, f_a, torch.full_like(f_a, 2.0))
    return flip + lam * e.abs().sum(1).mean()


def tie_share(f_a: torch.Tensor, f_b: torch.Tensor, tol: float = 1e-4) -> float:
    """Share of pairs whose scores are equal to within `tol`: 1.0 means the ranker collapsed
    to a constant and ranks nothing. Logged during training."""
    return float(((f_a - f_b).abs() <= tol).float().mean())
