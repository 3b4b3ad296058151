"""ndarray -> QImage for display, called on the capture and scoring threads (never full size on
the GUI thread). QImage is safe to build off the GUI thread; it is handed over by a signal.

Images come out as Format_RGB32, the raster paint engine's own format, so painting one at its
size is a plain copy on the GUI thread (a BGR888 image is converted on every paint). Shrinks by
less than 2x use INTER_LINEAR: it does not alias there and costs a fifth of INTER_AREA at a
non-integer scale (1280x720 -> 960x540: ~1 ms instead of 5-7 ms).
"""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage

PREVIEW_LONG_SIDE = 960  # what the review's large view and the wall paint
THUMB_LONG_SIDE = 240


def fit_size(w: int, h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """(w, h) scaled to fit in box_w x box_h keeping the aspect ratio, never enlarged."""
    scale = min(1.0, box_w / w, box_h / h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def long_side_size(w: int, h: int, long_side: int) -> tuple[int, int]:
    """(w, h) scaled so the long side is at most `long_side`, never enlarged."""
    return fit_size(w, h, long_side, long_side)


def downscale(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`pixels` resized to size (w, h); the array itself when it already has that size."""
    h, w = pixels.shape[:2]
    if (w, h) == tuple(size):
        return pixels
    shrink = max(size[0] / w, size[1] / h)
    interpolation = cv2.INTER_LINEAR if shrink >= 0.5 else cv2.INTER_AREA
    return cv2.resize(pixels, tuple(size), interpolation=interpolation)


def qimage(pixels: np.ndarray, *, mirror: bool = False) -> QImage:
    """A QImage (Format_RGB32, owning its memory) of a BGR or grey frame, as is."""
    if mirror:
        pixels = cv2.flip(pixels, 1)
    h, w = pixels.shape[:2]
    image = QImage(w, h, QImage.Format.Format_RGB32)  # rows are w * 4 bytes: no padding
    out = np.frombuffer(image.bits(), np.uint8).reshape(h, w, 4)  # B, G, R, 255 in memory
    code = cv2.COLOR_GRAY2BGRA if pixels.ndim == 2 else cv2.COLOR_BGR2BGRA
    cv2.cvtColor(pixels, code, dst=out)
    return image


def to_qimage(pixels: np.ndarray, long_side: int | None = None, *, mirror: bool = False,
              size: tuple[int, int] | None = None) -> QImage:
    """A QImage of a BGR frame, downscaled to `size` (w, h) or so its long side is at most
    `long_side` (never enlarged), mirrored if asked."""
    h, w = pixels.shape[:2]
    if size is None and long_side is not None:
        size = long_side_size(w, h, long_side)
    if size is not None:
        pixels = downscale(pixels, size)
    return qimage(pixels, mirror=mirror)
