"""ndarray -> QImage for display, called on the capture and scoring threads (never full size on
the GUI thread). QImage is safe to build off the GUI thread; it is handed over by a signal.
"""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

PREVIEW_LONG_SIDE = 960  # what the live view and the filmstrip's large view paint
THUMB_LONG_SIDE = 240


def to_qimage(pixels: np.ndarray, long_side: int | None = None, *, mirror: bool = False) -> QImage:
    """A detached QImage of a BGR frame, downscaled so its long side is at most `long_side`."""
    h, w = pixels.shape[:2]
    if long_side is not None and max(h, w) > long_side:
        scale = long_side / max(h, w)
        pixels = cv2.resize(pixels, (max(1, round(w * scale)), max(1, round(h * scale))),
                            interpolation=cv2.INTER_AREA)
    if mirror:
        pixels = cv2.flip(pixels, 1)
    pixels = np.ascontiguousarray(pixels)
    h, w = pixels.shape[:2]
    return QImage(pixels.data, w, h, pixels.strides[0], QImage.Format.Format_BGR888).copy()
