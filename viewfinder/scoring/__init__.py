"""Scorers by name. `make_scorer("sharpness")`, `make_scorer("path/to/model.onnx")`, ...

Pure (no Qt). Names: "default" (the shipped scorer), "sharpness" (Laplacian baseline), plus
whatever the ranker and face modules register in `_FACTORIES`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from viewfinder.scoring.base import Scorer, ScorerError
from viewfinder.scoring.sharpness import SharpnessScorer

MODELS_DIR = Path(__file__).resolve().parent.parent.parent / "models"


def _faces() -> Scorer:
    from viewfinder.scoring.faces import FaceScorer  # noqa: PLC0415  (loads onnxruntime)

    return FaceScorer(MODELS_DIR)


def _fused() -> Scorer:
    from viewfinder.scoring.fused import FusedScorer  # noqa: PLC0415

    return FusedScorer(MODELS_DIR)


def _ranker() -> Scorer:
    from viewfinder.scoring.onnx_ranker import OnnxRankerScorer  # noqa: PLC0415  (onnxruntime)

    return OnnxRankerScorer(MODELS_DIR / "ranker.onnx")


_FACTORIES: dict[str, Callable[[], Scorer]] = {
    "sharpness": SharpnessScorer,
    "ranker": _ranker,
    "faces": _faces,
    "fused": _fused,
}

# The shipped default: faces + sharpness (+ the ranker's latent attributes when models/ranker.onnx
# is the one models/fused.json was fitted with), docs/faces.md.
DEFAULT_SCORER = "fused"


def scorer_names() -> list[str]:
    return ["default", *_FACTORIES]


def make_scorer(name_or_path: str) -> Scorer:
    """Build a scorer by registered name or from an ONNX file exported by our training.

    Raises ScorerError with a one-line, actionable message.
    """
    name = DEFAULT_SCORER if name_or_path == "default" else name_or_path
    if name in _FACTORIES:
        return _FACTORIES[name]()
    if name.endswith(".onnx") or Path(name).suffix == ".onnx":
        from viewfinder.scoring.onnx_ranker import OnnxRankerScorer  # noqa: PLC0415

        return OnnxRankerScorer(Path(name))
    raise ScorerError(
        f"unknown scorer {name_or_path!r}: use one of {', '.join(scorer_names())} "
        "or a path to an .onnx model exported by `python -m viewfinder export`"
    )


__all__ = ["Scorer", "ScorerError", "make_scorer", "scorer_names", "DEFAULT_SCORER", "MODELS_DIR"]
