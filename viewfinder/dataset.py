"""Bursts on disk: the burst dataset format, burst folders, images and videos cut into bursts.

Sits at the front of the command-line flow (`rank`, `eval`): disk -> pixels + labels -> scorers.
Pure Python + OpenCV, no Qt; any thread. Every problem with the input raises DatasetError with
one line that names the folder, file or CSV line at fault.

The format (see docs/cli.md):
    DATASET/bursts/<burst_id>/<frames>   jpg or png; capture order = sorted file names
    DATASET/pairs.csv                    burst,a,b,label: a is at least as good as b;
                                         0 equal, 1 a marginally better, 2 a significantly better
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from viewfinder.camera.base import image_size_problem

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
PAIRS_HEADER = ("burst", "a", "b", "label")


class DatasetError(ValueError):
    """Bad input on disk. The message is one line naming the folder, file or CSV line."""


@dataclass(frozen=True)
class BurstFolder:
    """One burst: its id and its frames, in capture order (sorted file names)."""

    id: str
    frames: tuple[Path, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.frames)


@dataclass(frozen=True)
class Pair:
    """One row of pairs.csv: frame `a` is at least as good as frame `b` (paper eq. 1, Y(a, b))."""

    burst: str
    a: str
    b: str
    label: int  # 0 equal, 1 a marginally better, 2 a significantly better


@dataclass(frozen=True)
class Dataset:
    root: Path
    bursts: tuple[BurstFolder, ...]  # sorted by id
    pairs: tuple[Pair, ...]  # in file order

    def pairs_of(self, burst_id: str) -> list[Pair]:
        return [p for p in self.pairs if p.burst == burst_id]


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")


def _image_files(folder: Path) -> tuple[Path, ...]:
    return tuple(sorted((p for p in folder.iterdir() if _is_image(p)), key=lambda p: p.name))


def load_burst_folder(folder: Path) -> BurstFolder:
    """A folder of jpg/png frames; other files are ignored. Raises DatasetError if it has none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"burst folder not found: {folder}")
    frames = _image_files(folder)
    if not frames:
        raise DatasetError(f"empty burst: no .jpg or .png frames in {folder}")
    return BurstFolder(folder.name, frames)


def find_bursts(path: Path) -> list[BurstFolder]:
    """Bursts under `path`: a burst folder (frames directly inside), a folder of burst folders,
    or a dataset root (its `bursts/` folder). Raises DatasetError when there is none."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"not found: {path}")
    if not path.is_dir():
        raise DatasetError(f"not a folder: {path}")
    if _image_files(path):
        return [load_burst_folder(path)]
    root = path / "bursts" if (path / "bursts").is_dir() else path
    subdirs = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                     key=lambda d: d.name)
    if not subdirs:
        raise DatasetError(f"no frames and no burst folders in {path}")
    return [load_burst_folder(d) for d in subdirs]


def read_pairs(csv_path: Path, bursts: dict[str, BurstFolder]) -> list[Pair]:
    """Read and validate pairs.csv against the bursts on disk."""
    try:
        text = Path(csv_path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"pairs.csv not found: {csv_path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read {csv_path}: {e}") from None
    try:
        return _parse_pairs(csv_path, text, bursts)
    except csv.Error as e:  # e.g. a field over the csv module's size limit: not a pairs file
        raise DatasetError(f"{csv_path}: not a valid CSV file ({e})") from None


def _parse_pairs(csv_path: Path, text: str, bursts: dict[str, BurstFolder]) -> list[Pair]:
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header[:4]) != PAIRS_HEADER:
        found = ",".join(header or []) or "nothing"
        found = found if len(found) <= 60 else found[:57] + "..."  # a binary file: keep one line
        raise DatasetError(f"{csv_path}: header must be {','.join(PAIRS_HEADER)}, "
                           f"found {found!r}")
    pairs: list[Pair] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{csv_path} line {line_no}"
        if len(row) < 4:
            raise DatasetError(f"{where}: expected 4 fields (burst,a,b,label), found {len(row)}")
        burst, a, b, label_text = (c.strip() for c in row[:4])
        try:
            label = int(label_text)
        except ValueError:
            raise DatasetError(f"{where}: label {label_text!r} is not 0, 1 or 2") from None
        if label not in (0, 1, 2):
            raise DatasetError(f"{where}: label {label} is outside 0..2")
        if burst not in bursts:
            raise DatasetError(f"{where}: burst {burst!r} has no folder in bursts/")
        names = bursts[burst].names
        for frame in (a, b):
            if frame not in names:
                raise DatasetError(f"{where}: frame {frame!r} does not exist in burst {burst!r}")
        if a == b:
            raise DatasetError(f"{where}: pairs a frame with itself ({a!r})")
        key = (burst, frozenset((a, b)))
        if key in seen:
            raise DatasetError(f"{where}: pair {a!r}, {b!r} of burst {burst!r} is listed twice")
        seen.add(key)
        pairs.append(Pair(burst, a, b, label))
    return pairs


def load_dataset(root: Path) -> Dataset:
    """Load DATASET/bursts/* and DATASET/pairs.csv; validates everything but reads no pixels."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    bursts_dir = root / "bursts"
    if not bursts_dir.is_dir():
        raise DatasetError(f"no bursts/ folder in {root}")
    folders = sorted((d for d in bursts_dir.iterdir() if d.is_dir() and not d.name.startswith(".")),
                     key=lambda d: d.name)
    if not folders:
        raise DatasetError(f"no burst folders in {bursts_dir}")
    bursts = [load_burst_folder(d) for d in folders]
    pairs = read_pairs(root / "pairs.csv", {b.id: b for b in bursts})
    return Dataset(root, tuple(bursts), tuple(pairs))


def read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 BGR. Works with non-ASCII paths; raises DatasetError naming the file."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as e:
        raise DatasetError(f"cannot read image {path}: {e.strerror or e}") from None
    too_large = image_size_problem(data) if data.size else None
    if too_large:
        raise DatasetError(f"image too large: {path} {too_large}")
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None or img.size == 0:
        raise DatasetError(f"unreadable image (not a valid jpg/png): {path}")
    return img


@dataclass(frozen=True, eq=False)
class VideoBurst:
    """A burst cut from a video. Frame names are `frame_<source frame number>`."""

    id: str
    names: tuple[str, ...]
    pixels: tuple[np.ndarray, ...]
    indices: tuple[int, ...]  # source frame numbers
    fps: float  # the video's nominal rate (0 when the container does not say)


def cut_video(path: Path, burst_size: int = 11, stride: int = 3) -> Iterator[VideoBurst]:
    """Cut a video into consecutive, non-overlapping bursts of `burst_size` frames, taking every
    `stride`-th video frame (the burst rate: 30 fps / 3 = 10 frames/s). A shorter last burst is
    kept. Burst ids are `<video stem>_000`, `_001`, ... Raises DatasetError if it cannot be read.
    """
    path = Path(path)
    if burst_size < 1 or stride < 1:
        raise DatasetError("--burst-size and --stride must be at least 1")
    if not path.is_file():
        raise DatasetError(f"not found: {path}")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DatasetError(f"cannot open video (unsupported or not a video): {path}")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        names: list[str] = []
        pixels: list[np.ndarray] = []
        indices: list[int] = []
        n_bursts = 0
        index = 0
        while True:
            ok, img = cap.read()
            if not ok or img is None:
                break
            if index % stride == 0:
                names.append(f"frame_{index:06d}")
                pixels.append(img)
                indices.append(index)
                if len(names) == burst_size:
                    yield VideoBurst(f"{path.stem}_{n_bursts:03d}", tuple(names), tuple(pixels),
                                     tuple(indices), fps)
                    n_bursts += 1
                    names, pixels, indices = [], [], []
            index += 1
        if names:
            yield VideoBurst(f"{path.stem}_{n_bursts:03d}", tuple(names), tuple(pixels),
                             tuple(indices), fps)
            n_bursts += 1
        if n_bursts == 0:
            raise DatasetError(f"no frames could be decoded from video: {path}")
    finally:
        cap.release()
