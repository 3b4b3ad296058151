"""The one preprocessing function: a BGR uint8 frame of any size -> the ranker's input tensor.

Sits between the ring buffer and the scorer (scoring thread), and in front of training (the data
cache is rendered with it), so training and the app cannot drift. Pure numpy + OpenCV; any thread.

The model's metadata (`InputSpec`, stored as JSON in the ONNX `metadata_props`) says what the
network expects; nothing here is hard-coded to one model.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CHANNEL_ORDERS = ("RGB", "BGR")


@dataclass(frozen=True)
class InputSpec:
    """What a model expects: (H, W) input size, per-channel mean/std on 0..1 pixels, channel order.

    The whole frame is resized (aspect ratio not kept, nothing cropped) so that a subject cut off
    at the frame edge stays visible to the ranker.
    """

    height: int
    width: int
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.25, 0.25, 0.25)
    channel_order: str = "RGB"

    def __post_init__(self):
        if self.height < 8 or self.width < 8:
            raise ValueError(f"input size {self.height}x{self.width} is too small (min 8x8)")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError("mean and std need 3 values each, std > 0")
        if self.channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel order {self.channel_order!r} is not one of {CHANNEL_ORDERS}")

    def to_metadata(self) -> dict:
        return {"input_size": [self.height, self.width], "mean": list(self.mean),
                "std": list(self.std), "channel_order": self.channel_order,
                "layout": "NCHW", "resize": "cv2.INTER_AREA, whole frame"}

    @classmethod
    def from_metadata(cls, meta: dict) -> "InputSpec":
        """Build from the JSON in a model's metadata; raises ValueError on missing/bad fields."""
        try:
            h, w = (int(v) for v in meta["input_size"])
            return cls(h, w, tuple(float(v) for v in meta["mean"]),
                       tuple(float(v) for v in meta["std"]), str(meta["channel_order"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"bad input metadata: {e}") from None


def resize_frame(pixels: np.ndarray, spec: InputSpec) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (h, w, 3) uint8 BGR at the model's input size, by area averaging
    (INTER_LINEAR when upscaling, where AREA degenerates to it anyway).

    A large shrink goes in two steps: first by the largest whole factor that keeps the frame at
    least twice the input size (OpenCV's fast integer-factor INTER_AREA path), then INTER_AREA to
    the exact size. Both steps average pixels, so the result is within a fraction of a grey level
    (mean) of a single INTER_AREA resize, at half the cost for a 1280x720 frame.
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR frame, got {pixels.dtype} {pixels.shape}")
    h, w = pixels.shape[:2]
    if (h, w) == (spec.height, spec.width):
        return pixels
    if not (h >= spec.height and w >= spec.width):
        return cv2.resize(pixels, (spec.width, spec.height), interpolation=cv2.INTER_LINEAR)
    k = min(h // spec.height, w // spec.width) // 2
    if k >= 2:
        pixels = cv2.resize(pixels, (w // k, h // k), interpolation=cv2.INTER_AREA)
    return cv2.resize(pixels, (spec.width, spec.height), interpolation=cv2.INTER_AREA)


def normalize(small: np.ndarray, spec: InputSpec) -> np.ndarray:
    """(..., h, w, 3) uint8 BGR at input size -> (..., 3, h, w) float32, channel order and
    mean/std applied. Training normalises whole cached batches with it."""
    if spec.channel_order == "RGB":
        small = small[..., ::-1]
    x = small.astype(np.float32) * (1.0 / 255.0)
    x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(np.moveaxis(x, -1, -3))  # (..., 3, h, w)


def preprocess(pixels: np.ndarray, spec: InputSpec) -> np.ndarray:
    """One BGR uint8 frame of any size -> (3, h, w) float32 model input."""
    return normalize(resize_frame(pixels, spec), spec)


def preprocess_batch(frames, spec: InputSpec) -> np.ndarray:
    """Several frames -> (N, 3, h, w) float32."""
    return np.stack([preprocess(f, spec) for f in frames])
