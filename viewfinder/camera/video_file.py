"""A video file as a frame source (not live: the capture thread may read it as fast as it likes).

Times come from the frame number and the file's frame rate. Undecodable frames are skipped and
counted in `bad_frames`. Capture thread only.
"""
from __future__ import annotations

from pathlib import Path

import cv2

from viewfinder.camera.base import SourceError, as_bgr
from viewfinder.frames import Frame

_MAX_BAD_IN_A_ROW = 50


class VideoFileSource:
    live = False
    is_camera = False

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.name = self.path.name
        self.fps = 30.0
        self.bad_frames = 0
        self._cap = None
        self._pos = 0  # frame number in the file of the next read
        self._count = -1  # frames in the file as the container reports it (-1: unknown)

    def open(self) -> None:
        self.close()
        if not self.path.is_file():
            raise SourceError(f"no such video file: {self.path}")
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot read {self.path}: not a video OpenCV can decode")
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if 0.5 <= fps <= 1000.0 else 30.0
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        self._count = int(count) if count and count > 0 else -1
        self._cap, self._pos = cap, 0

    def read(self) -> Frame | None:
        if self._cap is None:
            raise SourceError(f"{self.name} is not open")
        bad_in_a_row = 0
        while bad_in_a_row < _MAX_BAD_IN_A_ROW:
            ok, raw = self._cap.read()
            pos = self._pos
            self._pos += 1
            if not ok:
                # a failed read before the reported end is a corrupt frame, not the end
                if 0 <= pos < self._count - 1:
                    self.bad_frames += 1
                    bad_in_a_row += 1
                    continue
                return None
            img = as_bgr(raw)
            if img is None:
                self.bad_frames += 1
                bad_in_a_row += 1
                continue
            return Frame(index=pos, t_ns=round(pos * 1e9 / self.fps), pixels=img)
        return None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        self._cap = None
