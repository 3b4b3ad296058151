"""The learned burst ranker in onnxruntime: one BGR frame -> Score(value, latent attributes).

Scoring thread only (one session, one thread: the app scores frames one at a time and shares
the CPU with capture and the UI). No torch: the model's contract is read from the JSON in its
metadata_props["viewfinder"], written by viewfinder.training.export, and preprocessing is
viewfinder.preprocess, the same function training used.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from viewfinder.frames import Score
from viewfinder.preprocess import InputSpec, preprocess
from viewfinder.scoring.base import ScorerError, onnx_session

METADATA_KEY = "viewfinder"
FORMAT = "viewfinder-ranker/1"


def _read_metadata(path: Path, props: dict) -> dict:
    if METADATA_KEY not in props:
        raise ScorerError(f"{path}: no '{METADATA_KEY}' metadata; export the model with "
                          "`python -m viewfinder export`")
    try:
        meta = json.loads(props[METADATA_KEY])
    except json.JSONDecodeError as e:
        raise ScorerError(f"{path}: metadata is not valid JSON ({e.msg})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ScorerError(f"{path}: metadata format is not {FORMAT!r}")
    names = meta.get("attribute_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ScorerError(f"{path}: metadata attribute_names must be a non-empty list of names")
    return meta


class OnnxRankerScorer:
    """Scorer protocol (viewfinder.scoring.base) for a ranker exported by our training."""

    def __init__(self, path: Path, name: str = "ranker"):
        self.path = path = Path(path)
        self.name = name
        self._session = onnx_session(path)
        meta = _read_metadata(path, self._session.get_modelmeta().custom_metadata_map)
        try:
            self.spec = InputSpec.from_metadata(meta)
        except ValueError as e:
            raise ScorerError(f"{path}: {e}") from None
        self.version = str(meta.get("version", "unknown"))
        self.attribute_names = tuple(meta["attribute_names"])
        self.metadata = meta
        self._check_io(path)

    def _check_io(self, path: Path) -> None:
        inputs = self._session.get_inputs()
        outputs = {o.name: o for o in self._session.get_outputs()}
        if len(inputs) != 1 or inputs[0].name != "image":
            raise ScorerError(f"{path}: expected one input named 'image'")
        shape = inputs[0].shape
        if len(shape) != 4 or shape[1] != 3 or list(shape[2:]) != [self.spec.height, self.spec.width]:
            raise ScorerError(f"{path}: input shape {shape} does not match metadata input size "
                              f"{self.spec.height}x{self.spec.width}")
        if "score" not in outputs or "attributes" not in outputs:
            raise ScorerError(f"{path}: outputs must be 'score' and 'attributes'")
        n_attr = outputs["attributes"].shape[-1]
        if n_attr != len(self.attribute_names):
            raise ScorerError(f"{path}: {n_attr} attribute outputs but {len(self.attribute_names)} "
                              "attribute names in metadata")
        # one dry run: a file that loads but cannot run fails here, not on the first frame
        try:
            self._run(np.zeros((1, 3, self.spec.height, self.spec.width), np.float32))
        except Exception as e:  # noqa: BLE001
            raise ScorerError(f"{path}: model does not run: {str(e).splitlines()[0][:200]}") from None

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        score, attrs = self._session.run(["score", "attributes"], {"image": x})
        return np.asarray(score).reshape(-1), np.asarray(attrs).reshape(len(x), -1)

    def score_batch(self, frames) -> list[Score]:
        """Several frames in one onnxruntime call (same results as `score` one by one)."""
        if not len(frames):
            return []
        x = np.stack([preprocess(f, self.spec) for f in frames])  # (N, 3, h, w)
        scores, attrs = self._run(x)
        return [Score(value=float(s), attributes=dict(zip(self.attribute_names, map(float, a))))
                for s, a in zip(scores, attrs)]

    def score(self, pixels: np.ndarray) -> Score:
        return self.score_batch([pixels])[0]
