"""A folder of images as a frame source, in name order at 10 frames/s (not live).

Files that are not images are ignored; images that fail to decode are skipped and counted in
`bad_frames`. Capture thread only.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from viewfinder.camera.base import IMAGE_SUFFIXES, SourceError, as_bgr, image_size_problem
from viewfinder.frames import Frame

FOLDER_FPS = 10.0


def read_image(path: Path) -> np.ndarray | None:
    """Decode an image file to (H, W, 3) uint8 BGR; None if it is unreadable, corrupt or too large.
    Goes through bytes so non-ASCII paths work everywhere."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0 or image_size_problem(data) is not None:
        return None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return as_bgr(img)


class ImageFolderSource:
    live = False
    is_camera = False

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.name = self.folder.name or str(self.folder)
        self.fps = FOLDER_FPS
        self.bad_frames = 0
        self.files: list[Path] = []
        self._pos = 0
        self._opened = False

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"no such folder: {self.folder}")
        try:
            files = sorted((p for p in self.folder.iterdir()
                            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                           key=lambda p: p.name)
        except OSError as e:
            raise SourceError(f"cannot list {self.folder}: {e.strerror or e}") from None
        if not files:
            raise SourceError(f"no images in {self.folder} (expected "
                              f"{', '.join(IMAGE_SUFFIXES)} files)")
        self.files, self._pos, self._opened = files, 0, True

    def read(self) -> Frame | None:
        if not self._opened:
            raise SourceError(f"{self.name} is not open")
        while self._pos < len(self.files):
            pos = self._pos
            self._pos += 1
            img = read_image(self.files[pos])
            if img is None:
                self.bad_frames += 1
                continue
            return Frame(index=pos, t_ns=round(pos * 1e9 / self.fps), pixels=img)
        return None

    def close(self) -> None:
        self._opened = False
