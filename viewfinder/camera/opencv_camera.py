"""A real camera through OpenCV's VideoCapture. Capture thread only.

`read` blocks until the driver delivers a frame; the capture thread owns the timeout/stop logic.
"""
from __future__ import annotations

import time

import cv2

from viewfinder.camera.base import SourceError, as_bgr
from viewfinder.frames import Frame

_MAX_BAD_IN_A_ROW = 30  # a second of garbage at 30 fps means the camera is gone


class OpenCVCamera:
    live = True
    is_camera = True

    def __init__(self, index: int, size: tuple[int, int] | None = None):
        self.index = int(index)
        self.size = size  # requested (w, h); the frames tell what the driver really gives
        self.name = f"Camera {self.index}"
        self.fps = 30.0
        self.bad_frames = 0
        self._cap = None
        self._first = None
        self._shape = None
        self._count = 0

    def open(self) -> None:
        self.close()
        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"no camera at index {self.index}: check it is plugged in and not "
                              "used by another app")
        if self.size is not None:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        ok, img = cap.read()
        first = as_bgr(img) if ok else None
        if first is None:
            cap.release()
            raise SourceError(f"no camera at index {self.index}: it opened but sent no frame")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if 1.0 <= fps <= 240.0 else 30.0
        self._cap, self._first, self._shape = cap, first, first.shape
        self._count = 0

    def read(self) -> Frame | None:
        if self._cap is None:
            raise SourceError(f"{self.name} is not open")
        if self._first is not None:
            img, self._first = self._first, None
        else:
            img = self._grab()
        frame = Frame(index=self._count, t_ns=time.monotonic_ns(), pixels=img)
        self._count += 1
        return frame

    def _grab(self):
        for _ in range(_MAX_BAD_IN_A_ROW):
            ok, raw = self._cap.read()
            if not ok:
                raise SourceError(f"{self.name} stopped sending frames (unplugged?)")
            img = as_bgr(raw)
            if img is not None and img.shape == self._shape:
                return img
            self.bad_frames += 1
        raise SourceError(f"{self.name} sends only corrupt frames")

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        self._cap = None
        self._first = None
