"""Small frozen types that flow through the pipeline.

camera -> Frame -> ring buffer -> scorer -> Score -> shutter -> Burst -> ranking -> save.
Pure Python; any thread may create or read them (they are immutable; pixel arrays are
never written after capture).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np


@dataclass(frozen=True, eq=False)
class Frame:
    """One camera frame. `index` counts frames from the source since it was opened."""

    index: int
    t_ns: int  # capture time (monotonic ns for live sources, simulated for synthetic/file)
    pixels: np.ndarray  # (H, W, 3) uint8, BGR, full camera resolution
    truth: Mapping[str, float] | None = None  # ground truth, synthetic source only

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.pixels.shape[:2]
        return w, h


@dataclass(frozen=True)
class FaceBox:
    """A detected face in normalised frame coordinates (0..1), for the overlay."""

    x: float
    y: float
    w: float
    h: float
    eyes_open: float | None = None  # probability, None when unknown


@dataclass(frozen=True)
class Score:
    """A scorer's verdict on one frame. Higher `value` is better, comparable within a burst."""

    value: float
    attributes: Mapping[str, float] = field(default_factory=dict)  # named, roughly 0..1
    reasons: tuple[str, ...] = ()  # short human reasons a frame may lose, e.g. "eyes closed"
    faces: tuple[FaceBox, ...] = ()  # face-aware scorers only


@dataclass(frozen=True)
class ScoredFrame:
    """A frame's score as shown in the overlay and the sidecar (no pixels)."""

    frame_index: int
    t_ns: int
    score: Score | None  # None: unscored (skipped or the scorer failed on it)
    latency_ms: float = 0.0


@dataclass(frozen=True, eq=False)
class Burst:
    """Frames around one shutter press, in capture order."""

    frames: tuple[Frame, ...]
    shutter_pos: int  # position in `frames` of the frame at the press
    press_t_ns: int
    short: bool = False  # fewer frames than configured (e.g. the camera was lost)
