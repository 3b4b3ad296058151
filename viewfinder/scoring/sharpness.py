"""Baseline scorer: variance of the Laplacian on a downscaled grey frame.

This is what phone cameras' native best-of-burst mostly uses. Pure; scoring thread only.
"""
from __future__ import annotations

import cv2
import numpy as np

from viewfinder.frames import Score

# Downscale to this long side first: makes the score resolution-independent and cheap.
LONG_SIDE = 320


class SharpnessScorer:
    name = "sharpness"
    version = "1"
    attribute_names = ("sharpness",)

    def score(self, pixels: np.ndarray) -> Score:
        grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        scale = LONG_SIDE / max(h, w)
        if scale < 1.0:
            grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                              interpolation=cv2.INTER_AREA)
        var = float(cv2.Laplacian(grey, cv2.CV_32F).var())
        # log keeps the value readable on the overlay; +1 keeps flat frames finite
        value = float(np.log1p(var))
        return Score(value=value, attributes={"sharpness": min(1.0, value / 10.0)})
