"""Scorers that cannot take the app down: a per-frame failure guard and a visible fallback.

Stage: scoring. Pure (no Qt). `GuardedScorer.score` runs on the scoring thread only;
`load_scorer_or_fallback` runs once at start-up or when the user picks another scorer.

  - GuardedScorer(inner).score(pixels) returns the inner Score, or None when the inner scorer
    raises or returns something that is not a usable Score: that frame is unscored (ranking puts
    it last, the sidecar shows `"score": null`), the failure is counted, the stream goes on.
  - load_scorer_or_fallback(name) builds the scorer, or, when that fails (missing, truncated or
    wrong-shaped ONNX file, metadata that does not match), the sharpness scorer plus a one-line
    warning naming the file, for the window's warning badge.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from viewfinder.frames import Score
from viewfinder.scoring import make_scorer
from viewfinder.scoring.base import Scorer, ScorerError
from viewfinder.scoring.sharpness import SharpnessScorer

FALLBACK = "sharpness"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


class GuardedScorer:
    """Wraps any Scorer; see the module docstring. `failures` and `last_error` are readable from
    any thread (plain int and str)."""

    def __init__(self, inner: Scorer):
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.attribute_names = tuple(inner.attribute_names)
        self.failures = 0
        self.scored = 0
        self.last_error = ""
        self._lock = threading.Lock()

    def score(self, pixels: np.ndarray) -> Score | None:
        try:
            score = self.inner.score(pixels)
        except Exception as exc:  # one bad frame or a model bug must not stop the stream
            return self._failed(_one_line(exc))
        if not isinstance(score, Score):
            return self._failed(f"returned {type(score).__name__}, not a Score")
        try:
            ok = math.isfinite(float(score.value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            return self._failed(f"returned a non-finite score {score.value!r}")
        with self._lock:
            self.scored += 1
        return score

    def _failed(self, why: str) -> None:
        with self._lock:
            self.failures += 1
            self.last_error = f"scorer {self.name} failed: {why}"
        return None


def load_scorer_or_fallback(name: str) -> tuple[Scorer, str | None]:
    """(scorer, None), or (sharpness scorer, one-line warning naming `name`) if it cannot be built.

    ScorerError is the expected failure; any other exception from a broken model file or library
    is caught too, since the app must start either way.
    """
    try:
        return make_scorer(name), None
    except Exception as exc:  # noqa: BLE001 - see the docstring
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not isinstance(exc, ScorerError):
            why = f"{type(exc).__name__}: {why}"
        if str(name) not in why:
            why = f"{name}: {why}"
        if name == FALLBACK:  # nothing to fall back to; should never happen
            raise
        return SharpnessScorer(), f"scorer unavailable, using {FALLBACK} instead: {why}"
