"""The scorer interface. Scorers are pure (no Qt) and called from the scoring thread only.

A scorer turns one BGR frame into a Score. `score` must be safe to call repeatedly from one
thread; scorers need not be thread-safe.
"""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from viewfinder.frames import Score


class ScorerError(RuntimeError):
    """A scorer could not be built (bad model file, bad metadata). The message names the file."""


@runtime_checkable
class Scorer(Protocol):
    name: str  # e.g. "sharpness", "ranker", "fused"
    version: str
    attribute_names: tuple[str, ...]  # keys of Score.attributes, in display order

    def score(self, pixels: np.ndarray) -> Score:
        """Score one (H, W, 3) uint8 BGR frame at any resolution."""
        ...


def score_burst(scorer: Scorer, frames: Sequence[np.ndarray]) -> list[Score]:
    """Score every frame of a burst (convenience for the CLI and tests)."""
    return [scorer.score(p) for p in frames]
