"""Burst-level baselines: `random` and `middle`. They look at a frame's position, not its pixels.

Unlike a Scorer (pixels -> Score), these score a whole burst at once from its length and shutter
position, so the CLI calls them instead of `make_scorer`. Pure; any thread.
"""
from __future__ import annotations

import numpy as np

from viewfinder.frames import Score


class MiddleScorer:
    """The frame nearest the shutter wins, then the next nearest, earlier before later.

    Without shutter information (dataset bursts, video cuts) the shutter is the middle frame,
    index n // 2. Scores are distinct, so the order is total and pairwise accuracy is defined.
    """

    name = "middle"
    version = "1"
    attribute_names: tuple[str, ...] = ()

    def score_burst(self, n: int, shutter_pos: int | None = None) -> list[Score]:
        s = n // 2 if shutter_pos is None else shutter_pos
        # distance 0 -> 0, then -1 (one before), -2 (one after), -3 (two before), ...
        return [Score(value=-float(2 * abs(i - s) - (1 if i < s else 0)) if i != s else 0.0)
                for i in range(n)]


class RandomScorer:
    """A uniformly random order. `eval` reports its exact expected metrics instead of a draw
    (see viewfinder.metrics.expected_random); `rank` shows one draw from a seeded generator."""

    name = "random"
    version = "1"
    attribute_names: tuple[str, ...] = ()

    def __init__(self, seed: int = 0):
        self._rng = np.random.default_rng(seed)

    def score_burst(self, n: int, shutter_pos: int | None = None) -> list[Score]:
        return [Score(value=float(v)) for v in self._rng.random(n)]


BURST_SCORERS = {"random": RandomScorer, "middle": MiddleScorer}
