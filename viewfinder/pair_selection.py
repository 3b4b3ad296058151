"""Which two frames of a burst to show next on the labelling screen.

Stage: beside the flow (labelling). Pure Python + numpy, any thread; no state but the labels.

The paper labels every pair (55 for a burst of 11). We need far fewer, because what the metrics
and the personal ranker use most is the top of the burst:
  1. find the best ("king of the hill"): the current best meets every other frame once, in
     increasing order of the app's predicted score, so with a good prediction each newcomer wins
     and the chain already orders the burst (n - 1 comparisons);
  2. refine the top: for places 2..top_k, the candidates are the frames that only placed frames
     are known to beat; they play king of the hill among themselves.
A comparison is asked only when the labels so far (direct, or chained: a > b and b > c gives
a > c) do not settle it, never twice for one pair, and never more than `max_comparisons`
(2n by default) in all. The selector replays this plan over the labels on every call, so undo
is "drop the last label" and a burst can be resumed from the database.

`remaining` is the number of comparisons still to come if the user agreed with the app's
prediction from now on (exact when they do; it can grow when they do not), capped by the budget.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

TOP_K = 3

# keys 1..5 on the labelling screen: (left is better?, label). 3 = equal.
CHOICES = {1: (True, 2), 2: (True, 1), 3: (True, 0), 4: (False, 1), 5: (False, 2)}


@dataclass(frozen=True)
class Comparison:
    """Frame `a` is at least as good as frame `b` (burst positions); label 0 equal, 1
    marginally, 2 significantly better (the paper's Y(a, b))."""

    a: int
    b: int
    label: int


def choice_to_comparison(left: int, right: int, key: int) -> Comparison:
    """A key 1..5 on the labelling screen (left significantly / marginally better, equal,
    right marginally / significantly better) as a Comparison."""
    if key not in CHOICES:
        raise ValueError(f"choice {key} is not one of 1..5")
    left_better, label = CHOICES[key]
    return Comparison(left, right, label) if left_better else Comparison(right, left, label)


class _Need(Exception):
    """The plan needs a comparison the labels do not settle."""

    def __init__(self, pair: tuple[int, int]):
        self.pair = pair


class PairSelector:
    """Adaptive pair choice for one burst of `n` frames.

    `prior`: the app's predicted score per position (higher is better); None = capture order.
    `labels`: comparisons already given for this burst (e.g. from the database), oldest first.
    """

    def __init__(self, n: int, prior: Sequence[float | None] | None = None, *,
                 top_k: int = TOP_K, max_comparisons: int | None = None,
                 labels: Iterable[Comparison] = ()):
        if n < 1:
            raise ValueError("a burst needs at least one frame")
        self.n = n
        p = np.arange(n, dtype=np.float64) if prior is None else np.array(
            [np.nan if v is None else v for v in prior], np.float64)
        if p.shape != (n,):
            raise ValueError(f"{p.size} prior scores for {n} frames")
        p = np.where(np.isfinite(p), p, -np.inf)  # unscored frames are predicted worst
        # increasing predicted score; ties: later position first (so the earlier one ends on top)
        self.order = sorted(range(n), key=lambda i: (p[i], -i))
        self.top_k = max(1, min(top_k, n))
        self.max_comparisons = 2 * n if max_comparisons is None else max_comparisons
        self.labels: list[Comparison] = []
        for c in labels:
            self.add(c)

    # -- labels -------------------------------------------------------------------------------
    def add(self, c: Comparison) -> None:
        if not (0 <= c.a < self.n and 0 <= c.b < self.n) or c.a == c.b or c.label not in (0, 1, 2):
            raise ValueError(f"bad comparison {c} for a burst of {self.n} frames")
        self.labels.append(c)

    def answer(self, left: int, right: int, key: int) -> Comparison:
        """Record the user's key 1..5 for the pair shown as (left, right)."""
        c = choice_to_comparison(left, right, key)
        self.add(c)
        return c

    def undo(self) -> Comparison | None:
        return self.labels.pop() if self.labels else None

    # -- the plan -----------------------------------------------------------------------------
    def next_pair(self) -> tuple[int, int] | None:
        """The next pair to show, (left, right) in capture order; None when done."""
        if len(self.labels) >= self.max_comparisons:
            return None
        try:
            self._play(self._settled(self.labels))
        except _Need as need:
            return need.pair
        return None

    @property
    def done(self) -> bool:
        return self.next_pair() is None

    @property
    def remaining(self) -> int:
        """Comparisons still to come if the user agrees with the prediction from now on."""
        labels = list(self.labels)
        prior_rank = {pos: r for r, pos in enumerate(self.order)}
        extra = 0
        while len(labels) + extra < self.max_comparisons:
            try:
                self._play(self._settled(labels))
                break
            except _Need as need:
                a, b = need.pair
                if prior_rank[b] > prior_rank[a]:
                    a, b = b, a
                labels.append(Comparison(a, b, 1))
                extra += 1
        return extra

    def ranking(self) -> list[int]:
        """The top places found so far (burst positions, best first); complete when done."""
        placed: list[int] = []
        try:
            self._play(self._settled(self.labels), placed)
        except _Need:
            pass
        return placed

    @property
    def best(self) -> int | None:
        top = self.ranking()
        return top[0] if top and self.done else None

    def _settled(self, labels: Sequence[Comparison]) -> np.ndarray:
        """(n, n): +1 where i is known better than j, -1 worse, 0 equal, NaN unknown. Direct
        labels (the latest per pair) win over chains; frames in a contradicting cycle count as equal."""
        n = self.n
        ge = np.eye(n, dtype=bool)  # i at least as good as j
        strict = np.zeros((n, n), bool)
        direct: dict[frozenset, Comparison] = {}
        for c in labels:
            direct[frozenset((c.a, c.b))] = c
        for c in direct.values():
            ge[c.a, c.b] = True
            if c.label == 0:
                ge[c.b, c.a] = True
            else:
                strict[c.a, c.b] = True
        for k in range(n):  # transitive closure (Floyd-Warshall)
            ge |= ge[:, k:k + 1] & ge[k:k + 1, :]
        gt = (ge.astype(np.int32) @ strict.astype(np.int32) @ ge.astype(np.int32)) > 0
        known = np.full((n, n), np.nan)
        for i in range(n):
            for j in range(n):
                if gt[i, j] and not gt[j, i]:
                    known[i, j] = 1.0
                elif gt[j, i] and not gt[i, j]:
                    known[i, j] = -1.0
                elif ge[i, j] and ge[j, i]:
                    known[i, j] = 0.0
        for c in direct.values():  # a direct judgement settles its pair, even against chains
            v = 0.0 if c.label == 0 else 1.0
            known[c.a, c.b], known[c.b, c.a] = v, -v
        return known

    def _play(self, known: np.ndarray, placed: list[int] | None = None) -> None:
        """Run the plan; raise _Need at the first pair `known` does not settle."""

        def beats(challenger: int, champion: int) -> bool:
            v = known[challenger, champion]
            if np.isnan(v):
                raise _Need((min(challenger, champion), max(challenger, champion)))
            return v > 0  # equal: the champion stays

        placed = [] if placed is None else placed
        # 1. the best
        champion = self.order[0]
        for x in self.order[1:]:
            if beats(x, champion):
                champion = x
        placed.append(champion)
        # 2. refine the top: the next place among frames only placed frames are known to beat
        while len(placed) < self.top_k:
            rest = [x for x in self.order if x not in placed]
            cands = [x for x in rest if not any(known[y, x] > 0 for y in rest)] or rest  # or a cycle
            champion = cands[0]
            for x in cands[1:]:
                if beats(x, champion):
                    champion = x
            placed.append(champion)
