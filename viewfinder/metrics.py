"""The paper's evaluation metrics (section 5.1), per burst and over a data set, with bootstrap CIs.

At the end of the `eval` flow: labelled pairs + one score per frame -> accuracy. Pure numpy;
any thread.

- Pairwise accuracy: over pairs with label != 0, a pair is correct when (f(a) - f(b)) * label > 0
  (equal predicted scores count as wrong).
- Top-K: a burst hits top-K when at most K - 1 frames are labelled better than the predicted
  best, i.e. sum_i 1{Y(A_i, A_best) > 0} <= K - 1. In pairs.csv `a` is the at-least-as-good
  frame, so the frames better than X are the `a` of rows with b == X and label > 0. Pairs not
  listed are unknown and count for nothing. The predicted best is the highest score; on equal
  scores the first in capture order.
- Random: the exact expectation over a uniform pick (top-K) and 0.5 per non-equal pair.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from viewfinder.dataset import Dataset

TOP_K = (1, 2, 3)


@dataclass(frozen=True)
class BurstLabels:
    """One burst's labels in index form. pairs: (index of a, index of b, label), label in 0..2."""

    burst: str
    frames: tuple[str, ...]
    pairs: tuple[tuple[int, int, int], ...]

    @property
    def n_better(self) -> np.ndarray:
        """(n,) how many frames are labelled better than each frame."""
        counts = np.zeros(len(self.frames), dtype=np.int64)
        for _, b, label in self.pairs:
            if label > 0:
                counts[b] += 1
        return counts


@dataclass(frozen=True)
class BurstResult:
    """One scorer on one burst. Values may be fractional (expectations for `random`)."""

    burst: str
    correct: float  # correct non-equal pairs
    n_pairs: int  # non-equal pairs
    hits: tuple[float, ...]  # top-K hit (0/1, or its probability) for K in TOP_K
    pick: int | None  # index of the predicted best; None for `random`


@dataclass(frozen=True)
class Estimate:
    value: float  # NaN when there is nothing to measure
    lo: float
    hi: float


def burst_labels(dataset: Dataset) -> list[BurstLabels]:
    """Labels of every burst that has at least one pair; bursts without pairs are not scored."""
    out = []
    for burst in dataset.bursts:
        index = {name: i for i, name in enumerate(burst.names)}
        pairs = tuple((index[p.a], index[p.b], p.label) for p in dataset.pairs_of(burst.id))
        if pairs:
            out.append(BurstLabels(burst.id, burst.names, pairs))
    return out


def best_index(values: Sequence[float], shutter_pos: int | None = None) -> int:
    """The predicted best: highest value; on equal values the frame nearer the shutter, then the
    earlier one (the app's rule, viewfinder.ranking). Bursts on disk carry no shutter position:
    the middle frame (n // 2) stands in for it. NaN never wins."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("no scores: an empty burst has no best frame")
    s = len(v) // 2 if shutter_pos is None else shutter_pos
    v = np.where(np.isnan(v), -np.inf, v)
    return min(range(len(v)), key=lambda i: (-v[i], abs(i - s), i))


def evaluate_burst(labels: BurstLabels, values: Sequence[float]) -> BurstResult:
    """Metrics of one burst for one score per frame (capture order)."""
    if len(values) != len(labels.frames):
        raise ValueError(f"burst {labels.burst}: {len(values)} scores for {len(labels.frames)} frames")
    v = np.asarray(values, dtype=np.float64)
    correct = n = 0
    for a, b, label in labels.pairs:
        if label != 0:
            n += 1
            correct += bool((v[a] - v[b]) * label > 0)
    pick = best_index(v)
    better = labels.n_better[pick]
    hits = tuple(float(better <= k - 1) for k in TOP_K)
    return BurstResult(labels.burst, float(correct), n, hits, pick)


def expected_random(labels: BurstLabels) -> BurstResult:
    """Exact expected metrics of a uniformly random order (all scores distinct)."""
    n = sum(1 for _, _, label in labels.pairs if label != 0)
    better = labels.n_better
    hits = tuple(float(np.mean(better <= k - 1)) for k in TOP_K)
    return BurstResult(labels.burst, 0.5 * n, n, hits, None)


def summarize(results: Sequence[BurstResult], n_boot: int = 1000, seed: int = 0) -> dict[str, Estimate]:
    """Pairwise and top-K over bursts, each with a 95% percentile bootstrap interval that
    resamples bursts with replacement (`n_boot` resamples, fixed seed: reproducible)."""
    m = len(results)
    if m == 0:
        nan = Estimate(float("nan"), float("nan"), float("nan"))
        return {"pairwise": nan, **{f"top{k}": nan for k in TOP_K}}
    correct = np.array([r.correct for r in results])
    n_pairs = np.array([r.n_pairs for r in results], dtype=np.float64)
    hits = np.array([r.hits for r in results])  # (m, len(TOP_K))
    rng = np.random.default_rng(seed)
    weights = np.stack([np.bincount(rng.integers(0, m, m), minlength=m) for _ in range(n_boot)])
    weights = weights.astype(np.float64)  # (n_boot, m): how often each burst was drawn

    def estimate(point: float, samples: np.ndarray) -> Estimate:
        samples = samples[~np.isnan(samples)]
        if samples.size == 0:
            return Estimate(point, float("nan"), float("nan"))
        lo, hi = np.percentile(samples, [2.5, 97.5])
        return Estimate(point, float(lo), float(hi))

    out: dict[str, Estimate] = {}
    total = n_pairs.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        boot_pairwise = (weights @ correct) / (weights @ n_pairs)
    out["pairwise"] = estimate(float(correct.sum() / total) if total else float("nan"), boot_pairwise)
    boot_hits = weights @ hits / m  # (n_boot, len(TOP_K))
    for j, k in enumerate(TOP_K):
        out[f"top{k}"] = estimate(float(hits[:, j].mean()), boot_hits[:, j])
    return out
