"""The fused scorer: one linear aggregation over the ranker's latent attributes and the explicit
face attributes (plus sharpness), as Head C aggregates its C' attributes.

Scoring thread only (not thread-safe). Pure Python + OpenCV + onnxruntime. Weights come from
models/fused.json, written by `python -m viewfinder.training.fuse`:

    {"version": "1", "sets": [
        {"name": "with_ranker", "ranker": "ranker.onnx", "ranker_sha256": "...",
         "features": ["eyes_open", ..., "latent_1", ...], "mean": [...], "scale": [...],
         "weights": [...]},                       # latent_*: the ranker's attribute names
        {"name": "faces", "features": [...], "mean": [...], "scale": [...], "weights": [...]}]}

value = sum_i weights[i] * (x_i - mean[i]) / scale[i]. The first set whose inputs are all
available is used: with the ranker when models/ranker.onnx is the very file the weights were fitted
with (same sha256), else the faces + sharpness set, so the app works with or without the ranker.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from viewfinder.frames import Score
from viewfinder.scoring.base import ScorerError
from viewfinder.scoring.faces import FACE_ATTRIBUTES, FaceAnalyzer, face_boxes, face_reasons, frame_attributes
from viewfinder.scoring.sharpness import LONG_SIDE as SHARPNESS_LONG_SIDE, SharpnessScorer

WEIGHTS_FILE = "fused.json"
BLURRY_BELOW = 0.3  # sharpness attribute (log Laplacian variance / 10) of a visibly soft frame


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_weights(path: Path) -> list[dict]:
    """The weight sets of a fused.json, validated. Raises ScorerError naming the file."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScorerError(f"fused scorer weights not found: {path} "
                          "(fit them with `python -m viewfinder.training.fuse`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ScorerError(f"bad fused scorer weights {path}: {e}") from None
    sets = doc.get("sets") if isinstance(doc, dict) else None
    if not isinstance(sets, list) or not sets:
        raise ScorerError(f"bad fused scorer weights {path}: no weight sets")
    for s in sets:
        ok = isinstance(s, dict) and isinstance(s.get("features"), list) and all(
            isinstance(s.get(k), list) and len(s[k]) == len(s["features"])
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in s[k])
            for k in ("mean", "scale", "weights"))
        if not ok or not all(isinstance(f, str) for f in s["features"]) or any(
                v <= 0 for v in s["scale"]):
            raise ScorerError(f"bad fused scorer weights {path}: set "
                              f"{s.get('name') if isinstance(s, dict) else s!r} is malformed")
    return sets


class FusedScorer:
    """Faces + sharpness (+ the ranker's latent attributes when present) -> one linear score."""

    name = "fused"

    def __init__(self, models_dir: Path | None = None, weights: Path | None = None):
        if models_dir is None:
            from viewfinder.scoring import MODELS_DIR  # noqa: PLC0415

            models_dir = MODELS_DIR
        models_dir = Path(models_dir)
        weights = Path(weights) if weights is not None else models_dir / WEIGHTS_FILE
        sets = load_weights(weights)
        self.ranker = None
        chosen = None
        for s in sets:
            if s.get("ranker"):
                path = models_dir / s["ranker"]
                if not path.is_file() or file_sha256(path) != s.get("ranker_sha256"):
                    continue  # no ranker, or not the one these weights were fitted with
                from viewfinder.scoring.onnx_ranker import OnnxRankerScorer  # noqa: PLC0415

                self.ranker = OnnxRankerScorer(path)
            chosen = s
            break
        if chosen is None:
            raise ScorerError(f"{weights}: no usable weight set (every set needs a ranker that "
                              f"is missing or differs from the one the weights were fitted with)")
        self.set_name = str(chosen.get("name", "?"))
        self.features = tuple(chosen["features"])
        self._mean = np.array(chosen["mean"], np.float64)
        self._scale = np.array(chosen["scale"], np.float64)
        self._w = np.array(chosen["weights"], np.float64)
        self.faces = FaceAnalyzer(models_dir)
        self.sharpness = SharpnessScorer()
        latent = tuple(self.ranker.attribute_names) if self.ranker is not None else ()
        self.attribute_names = (*FACE_ATTRIBUTES, "sharpness", *latent)
        self.version = f"1+{self.set_name}"

    def attributes(self, pixels: np.ndarray) -> tuple[dict[str, float], tuple]:
        """All named inputs of the linear model for one frame, and the detected faces."""
        small = self.faces.detector_input(pixels)
        faces = self.faces.faces(pixels, small)
        size = (pixels.shape[1], pixels.shape[0])
        attrs = frame_attributes(faces, size)
        # The detector's shrunk frame is exactly the sharpness scorer's input for a landscape
        # frame (long side = its width), so shrink the full frame once, not twice.
        sharp_in = small if max(small.shape[:2]) == SHARPNESS_LONG_SIDE else pixels
        attrs["sharpness"] = self.sharpness.score(sharp_in).attributes["sharpness"]
        if self.ranker is not None:
            attrs.update(self.ranker.score(pixels).attributes)
        return attrs, faces

    def value(self, attrs: dict[str, float]) -> float:
        try:
            x = np.array([attrs[f] for f in self.features], np.float64)
        except KeyError as e:
            raise ScorerError(f"fused weights use attribute {e.args[0]!r} that no model provides") from None
        return float(self._w @ ((x - self._mean) / self._scale))

    def score(self, pixels: np.ndarray) -> Score:
        attrs, faces = self.attributes(pixels)
        reasons = face_reasons(attrs)
        if attrs["sharpness"] < BLURRY_BELOW and "blurry" not in reasons:
            reasons = (*reasons, "blurry")
        return Score(value=self.value(attrs), attributes=attrs, reasons=reasons,
                     faces=face_boxes(faces, (pixels.shape[1], pixels.shape[0])))
