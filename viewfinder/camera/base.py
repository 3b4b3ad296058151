"""Frame sources: the first stage of the pipeline (camera -> ring buffer -> scorer -> ...).

`open_source(spec)` turns what the user typed or picked into a FrameSource (not yet opened).
Sources are pure Python (no Qt) and are driven by the capture thread only: `open`, `read`
and `close` are called from that one thread.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from viewfinder.frames import Frame

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
# Larger images are refused before decoding: a 100 kB PNG can declare (and really decompress to)
# gigabytes of pixels. 2**27 pixels is over 100 megapixels (~400 MB as BGR).
MAX_IMAGE_PIXELS = 1 << 27
SPEC_HELP = "use a camera index (0, camera:1), 'synthetic[:SEED]', a video file or an image folder"


class SourceError(RuntimeError):
    """A source cannot be opened or stopped delivering frames. One-line, actionable message."""


@runtime_checkable
class FrameSource(Protocol):
    name: str  # shown in the window: "Camera 0", "Synthetic scene (seed 0)", "clip.mp4"
    fps: float  # nominal stream rate
    live: bool  # True for cameras and the synthetic scene (paced in real time)
    is_camera: bool  # True for real cameras (preview mirrored by default)

    def open(self) -> None: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


def image_size_problem(data) -> str | None:
    """Why an encoded image must not be decoded (its header declares too many pixels), or None.

    Reads only the header (Pillow opens lazily). Files Pillow cannot identify are left to the
    decoder, which fails on them or applies its own limit.
    """
    import io  # noqa: PLC0415
    import warnings  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
    except Image.DecompressionBombError:
        return f"declares over {Image.MAX_IMAGE_PIXELS * 2} pixels"
    except Exception:  # noqa: BLE001 - unknown or broken header: the decoder will say no
        return None
    if w * h > MAX_IMAGE_PIXELS:
        return (f"declares {w}x{h} pixels, over the {MAX_IMAGE_PIXELS // 1_000_000}-megapixel "
                "limit")
    return None


def quiet_opencv_logs() -> None:
    """Silence OpenCV's own [ WARN ] lines (a missing camera, the face detector's backend notes):
    the app and the CLI report problems in their own words, one line each."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def as_bgr(img: np.ndarray | None) -> np.ndarray | None:
    """A decoded image as (H, W, 3) uint8 BGR, or None if it is empty, corrupt or wrongly shaped.

    Grey images become 3-channel; BGRA drops alpha; 16-bit images are scaled down to 8 bits.
    """
    if img is None or not isinstance(img, np.ndarray) or img.size == 0:
        return None
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim not in (2, 3) or img.shape[0] < 2 or img.shape[1] < 2:
        return None
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        return None
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    if img.shape[2] == 4:
        return np.ascontiguousarray(img[:, :, :3])
    if img.shape[2] != 3:
        return None
    return img


def _parse_synthetic(spec: str, seed: int):
    from viewfinder.camera.synthetic import SyntheticSource  # noqa: PLC0415

    parts = spec.split(":")
    size = None
    try:
        if len(parts) >= 2 and parts[1] != "":
            seed = int(parts[1])
        if len(parts) == 3:
            w, h = parts[2].lower().split("x")
            size = (int(w), int(h))
        if len(parts) > 3:
            raise ValueError
        if seed < 0 or (size is not None and (size[0] < 64 or size[1] < 64)):
            raise ValueError
    except ValueError:
        raise SourceError(
            f"bad synthetic source {spec!r}: use 'synthetic', 'synthetic:SEED' or "
            "'synthetic:SEED:WIDTHxHEIGHT' (seed >= 0, size at least 64x64)") from None
    return SyntheticSource(seed=seed, size=size or (1280, 720))


def open_source(spec: str, *, seed: int = 0) -> FrameSource:
    """The source for `spec`, not yet opened. Raises SourceError for a spec that cannot work.

    spec: "synthetic" | "synthetic:SEED" | "synthetic:SEED:WxH" | "0" / "camera:0" /
    "camera:0:WxH" (asks the driver for that resolution; it may pick the nearest it has) |
    path to a video file | path to a folder of images.
    """
    spec = str(spec).strip()
    if not spec:
        raise SourceError(f"empty source: {SPEC_HELP}")
    low = spec.lower()
    if low == "synthetic" or low.startswith("synthetic:"):
        return _parse_synthetic(low, seed)
    if low.isdigit() or low.startswith("camera:"):
        from viewfinder.camera.opencv_camera import OpenCVCamera  # noqa: PLC0415

        num, _, size = low.removeprefix("camera:").partition(":")
        w, _, h = size.partition("x")
        if not num.isdigit() or (size and not (w.isdigit() and h.isdigit())):
            raise SourceError(f"bad camera {spec!r}: {SPEC_HELP} (camera:N:WIDTHxHEIGHT asks "
                              "for a resolution)")
        return OpenCVCamera(int(num), size=(int(w), int(h)) if size else None)
    path = Path(spec).expanduser()
    if path.is_dir():
        from viewfinder.camera.image_folder import ImageFolderSource  # noqa: PLC0415

        return ImageFolderSource(path)
    if path.is_file():
        from viewfinder.camera.video_file import VideoFileSource  # noqa: PLC0415

        return VideoFileSource(path)
    raise SourceError(f"no such file or folder: {spec} ({SPEC_HELP})")


def list_cameras(max_index: int = 4) -> list[int]:
    """Indices of cameras that open, probed quickly; [] on a machine without cameras."""
    import cv2  # noqa: PLC0415

    found = []
    for i in range(max_index + 1):
        # On Linux a missing device node means no camera: skip it rather than let a backend probe.
        if sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{i}"):
            continue
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened():
                found.append(i)
        finally:
            cap.release()
    return found
