"""The scorer interface. Scorers are pure (no Qt) and called from the scoring thread only.

A scorer turns one BGR frame into a Score. `score` must be safe to call repeatedly from one
thread; scorers need not be thread-safe.
"""
from __future__ import annotations

from pathlib import Path
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


def onnx_session(path: Path):
    """An onnxruntime CPU session on one intra-op thread, the way every scorer runs its models.

    Raises ScorerError naming the file when it is missing or not a loadable model.
    """
    import onnxruntime as ort  # noqa: PLC0415  (keeps `import viewfinder.scoring` light)

    if not path.is_file():
        raise ScorerError(f"model file not found: {path}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises several types for bad files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ScorerError(f"cannot load ONNX model {path}: {first[:200]}") from None


def score_burst(scorer: Scorer, frames: Sequence[np.ndarray]) -> list[Score]:
    """Score every frame of a burst (convenience for the CLI and tests)."""
    return [scorer.score(p) for p in frames]
