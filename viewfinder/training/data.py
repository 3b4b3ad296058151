"""Training data: synthetic bursts with known order, and the human-graded real bursts.

Front of the training flow: shared data on disk -> one .npz cache of uint8 frames already at
the model's input size (rendered once with viewfinder.preprocess, the app's own resize) ->
pair batches in train.py. numpy + OpenCV only; the training process's main thread.

Synthetic bursts (paper section 3.2 has no public data): a clean base frame (a photo, or a frame
of a real video) is seen by a "webcam" of 640 px long side; every frame of the burst gets a
small random camera shift and, most of the time, one or two graded defects: motion blur along
a random shake trajectory, defocus, sensor noise, under/over exposure, subject cut off at the
edge. Severities are continuous in 0..3 per defect and are judged at the camera's resolution;
a frame's quality is minus its summed severity, and a pair's label is the difference of
quality on the paper's 0/1/2 scale (the same thresholds as the human grades).
"""
from __future__ import annotations

import csv
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from viewfinder.preprocess import InputSpec, resize_frame

CACHE_VERSION = 3
CAMERA_LONG_SIDE = 640  # the simulated webcam frame; defects are sized against it
FRAMES_PER_BURST = 8
VIDEO_FRAMES_PER_CLIP = 24  # base frames taken from each video, evenly spaced
VAL_FRACTION = 0.12  # synthetic bursts held out for validation (whole bursts)
DEFECTS = ("motion", "defocus", "noise", "exposure", "cutoff")


class DataError(RuntimeError):
    """Missing or unreadable training data; the message names the path."""


def label_from_quality(qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """Eq. 1 labels from quality: |diff| < 0.5 equal (0), < 1.5 marginal (1), else 2.
    Same thresholds the graders' mean grades went through."""
    d = np.abs(np.asarray(qa) - np.asarray(qb))
    return np.where(d < 0.5, 0, np.where(d < 1.5, 1, 2)).astype(np.int64)


# ---------------------------------------------------------------- defects (all pure functions)

def shake_kernel(length: float, rng: np.random.Generator) -> np.ndarray:
    """A motion-blur kernel: a random, smooth camera-shake trajectory of about `length` px."""
    size = int(np.ceil(length)) * 2 + 3
    k = np.zeros((size, size), np.float32)
    steps = 64
    angle = rng.uniform(0, 2 * np.pi)
    turn = rng.normal(0, 0.05, steps).cumsum()  # the hand curves as it shakes
    step = length / steps
    xy = np.stack([np.cos(angle + turn), np.sin(angle + turn)], 1).cumsum(0) * step
    xy -= xy.mean(0)
    speed = rng.uniform(0.5, 1.5, steps)  # uneven speed: uneven exposure along the path
    for (x, y), w in zip(xy + size // 2, speed):
        k[int(round(y)), int(round(x))] += w
    return k / k.sum()


def disk_kernel(radius: float) -> np.ndarray:
    r = max(radius, 0.5)
    n = int(np.ceil(r)) * 2 + 1
    yy, xx = np.mgrid[:n, :n] - n // 2
    k = (np.hypot(xx, yy) <= r).astype(np.float32)
    k = cv2.GaussianBlur(k, (3, 3), 0.5)  # soft edge, like a real lens
    return k / k.sum()


def apply_defect(img: np.ndarray, kind: str, s: float, rng: np.random.Generator) -> np.ndarray:
    """Apply one defect of severity s (0..3) to a float32 BGR image in 0..255 at camera size.
    Severity 1 is noticeable on the 640 px frame, 3 is bad."""
    long_side = max(img.shape[:2])
    if kind == "motion":
        return cv2.filter2D(img, -1, shake_kernel(s * 0.012 * long_side, rng),
                            borderType=cv2.BORDER_REFLECT)
    if kind == "defocus":
        return cv2.filter2D(img, -1, disk_kernel(s * 0.005 * long_side),
                            borderType=cv2.BORDER_REFLECT)
    if kind == "noise":  # shot noise grows with signal, read noise does not; mild chroma
        sigma = s * 7.0
        shot = np.sqrt(np.clip(img, 0, 255) / 255.0)
        grain = rng.normal(0, 1, img.shape[:2])[..., None] * (0.8 + 0.2 * shot)
        chroma = rng.normal(0, 0.3, img.shape)
        return img + sigma * (grain + chroma).astype(np.float32)
    if kind == "exposure":  # in linear light, then clip: over-exposure blows highlights
        ev = s * 0.6 * rng.choice([-1.0, 1.0])
        lin = (np.clip(img, 0, 255) / 255.0) ** 2.2 * (2.0 ** ev)
        return (np.clip(lin, 0, 1) ** (1 / 2.2) * 255).astype(np.float32)
    raise ValueError(f"unknown defect {kind!r}")


def _crop(base: np.ndarray, cx: float, cy: float, frac: float) -> np.ndarray:
    """A window of `frac` x base size centred at (cx, cy) in 0..1 coords, clamped to the base."""
    h, w = base.shape[:2]
    ch, cw = int(h * frac), int(w * frac)
    x0 = int(np.clip(cx * w - cw / 2, 0, w - cw))
    y0 = int(np.clip(cy * h - ch / 2, 0, h - ch))
    return base[y0:y0 + ch, x0:x0 + cw]


def render_burst(base: np.ndarray, n: int, rng: np.random.Generator, *,
                 allow_cutoff: bool) -> tuple[list[np.ndarray], np.ndarray]:
    """n camera frames (uint8 BGR, 640 px long side) of one scene and their quality (n,)."""
    scale = CAMERA_LONG_SIDE / (0.8 * max(base.shape[:2]))
    base = cv2.resize(base, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    kinds = DEFECTS if allow_cutoff else DEFECTS[:-1]
    frames, quality = [], np.zeros(n, np.float32)
    for i in range(n):
        cx, cy = 0.5 + rng.normal(0, 0.01, 2)  # hand-held: the frame drifts a little
        severities: dict[str, float] = {}
        if rng.random() > 0.3:  # 30% clean frames: near-duplicates, the "equal" pairs
            for kind in rng.choice(kinds, size=rng.choice([1, 1, 2]), replace=False):
                severities[str(kind)] = float(rng.uniform(0.2, 3.0))
        if "cutoff" in severities:  # the subject (near the centre) leaves the frame
            ang = rng.uniform(0, 2 * np.pi)
            cx += np.cos(ang) * severities["cutoff"] * 0.05
            cy += np.sin(ang) * severities["cutoff"] * 0.05
        img = _crop(base, cx, cy, 0.8).astype(np.float32)
        for kind, s in severities.items():
            if kind != "cutoff":
                img = apply_defect(img, kind, s, rng)
        img = img + rng.normal(0, 1.5, img.shape).astype(np.float32)  # every sensor is noisy
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
        quality[i] = -sum(severities.values())
    return frames, quality


# ---------------------------------------------------------------- sources on disk

def _read(path: Path) -> np.ndarray:
    img = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise DataError(f"unreadable image: {path}")
    return img


def base_frames(data_root: Path) -> list[tuple[str, str, np.ndarray, bool]]:
    """(name, person, BGR image, has a subject to cut off) for every clean base frame:
    all photos, and VIDEO_FRAMES_PER_CLIP frames of each video. person = video stem or ""."""
    photos = sorted((data_root / "photos").rglob("*.jpg"))
    videos = sorted((data_root / "videos").glob("*.mp4"))
    if not photos and not videos:
        raise DataError(f"no photos/*.jpg or videos/*.mp4 under {data_root}")
    faces = set()
    faces_csv = data_root / "photos" / "faces_yunet.csv"
    if faces_csv.is_file():
        with faces_csv.open() as f:
            faces = {row["file"] for row in csv.DictReader(f)}
    out = []
    for p in photos:
        rel = p.relative_to(data_root / "photos").as_posix()
        out.append((rel, "", _read(p), rel in faces))
    for v in videos:
        cap = cv2.VideoCapture(str(v))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if n <= 0:
            cap.release()
            raise DataError(f"cannot read video: {v}")
        wanted = set(np.linspace(0, n - 1, VIDEO_FRAMES_PER_CLIP).astype(int).tolist())
        for i in range(n):
            ok, img = cap.read()
            if not ok:
                break
            if i in wanted:
                out.append((f"{v.name}#{i}", v.stem, img, True))
        cap.release()
    return out


def person_of(burst_id: str) -> str:
    """Graded bursts are named <video stem>_<N> or <video stem>_t<N>: the person is the stem."""
    return burst_id.rsplit("_", 1)[0]


def folds_of(persons, k: int) -> list[tuple[str, ...]]:
    """k person folds for cross-validation, deterministic: sorted persons dealt round-robin."""
    ps = sorted(set(str(p) for p in persons))
    return [tuple(ps[i::k]) for i in range(k)]


def load_graded(root: Path, spec: InputSpec) -> dict[str, np.ndarray]:
    """A graded burst set (bursts/<id>/frames + pairs.csv) as arrays at input size."""
    if not (root / "pairs.csv").is_file():
        raise DataError(f"no pairs.csv in {root}")
    burst_dirs = sorted(d for d in (root / "bursts").iterdir() if d.is_dir())
    images, frame_burst, index = [], [], {}
    for bi, d in enumerate(burst_dirs):
        for f in sorted(p for p in d.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
            index[(d.name, f.name)] = len(images)
            images.append(resize_frame(_read(f), spec))
            frame_burst.append(bi)
    pairs = []
    with (root / "pairs.csv").open() as f:
        for row in csv.DictReader(f):
            bi = [d.name for d in burst_dirs].index(row["burst"])
            pairs.append((index[(row["burst"], row["a"])], index[(row["burst"], row["b"])],
                          int(row["label"]), bi))
    ids = [d.name for d in burst_dirs]
    return {"images": np.stack(images), "frame_burst": np.array(frame_burst),
            "pairs": np.array(pairs, np.int64).reshape(-1, 4),
            "burst_ids": np.array(ids), "persons": np.array([person_of(b) for b in ids])}


def build_synthetic(data_root: Path, spec: InputSpec, seed: int = 0,
                    limit: int | None = None) -> dict[str, np.ndarray]:
    """Render every base frame under data_root into a burst at input size."""
    rng = np.random.default_rng(seed)
    bases = base_frames(data_root)
    if limit:
        bases = [bases[i] for i in rng.choice(len(bases), min(limit, len(bases)), replace=False)]
    return synthetic_from_bases(bases, spec, seed)


def synthetic_from_bases(bases: list[tuple[str, str, np.ndarray, bool]], spec: InputSpec,
                         seed: int = 0, frames_per_burst: int = FRAMES_PER_BURST) -> dict[str, np.ndarray]:
    """Render each (name, person, BGR image, has subject) base into one burst at input size."""
    images, quality, frame_burst, persons, names = [], [], [], [], []
    for bi, (name, person, img, subject) in enumerate(bases):
        # the seed of each burst depends on its name only: the cache does not depend on order
        brng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        frames, q = render_burst(img, frames_per_burst, brng, allow_cutoff=subject)
        images += [resize_frame(f, spec) for f in frames]
        quality.append(q)
        frame_burst += [bi] * len(frames)
        persons.append(person)
        names.append(name)
    split_rng = np.random.default_rng([seed, 1])
    val = split_rng.random(len(bases)) < VAL_FRACTION
    return {"images": np.stack(images), "quality": np.concatenate(quality),
            "frame_burst": np.array(frame_burst), "persons": np.array(persons),
            "names": np.array(names), "val": val}


def synthetic_pairs(frame_burst: np.ndarray, quality: np.ndarray,
                    bursts: np.ndarray) -> np.ndarray:
    """All within-burst pairs of the given bursts as (a, b, label, burst), a at least as good."""
    out = []
    for b in bursts:
        idx = np.flatnonzero(frame_burst == b)
        i, j = np.triu_indices(len(idx), 1)
        a, c = idx[i], idx[j]
        swap = quality[a] < quality[c]
        a, c = np.where(swap, c, a), np.where(swap, a, c)
        out.append(np.stack([a, c, label_from_quality(quality[a], quality[c]),
                             np.full_like(a, b)], 1))
    return np.concatenate(out) if out else np.zeros((0, 4), np.int64)


# ---------------------------------------------------------------- the cache

@dataclass
class TrainingData:
    """Everything training needs, at one input size. Pair arrays are (a, b, label, burst)."""

    syn: dict[str, np.ndarray]
    train: dict[str, np.ndarray] | None  # bursts-train
    dev: dict[str, np.ndarray] | None  # bursts-dev


def _flatten(prefix: str, d: dict) -> dict:
    return {f"{prefix}/{k}": v for k, v in d.items()}


def build_cache(data_root: Path, spec: InputSpec, path: Path, *, seed: int = 0,
                limit: int | None = None, log=print) -> TrainingData:
    """Render everything once and write it atomically to `path` (.npz)."""
    data_root = Path(data_root)
    if not data_root.is_dir():
        raise DataError(f"data folder not found: {data_root}")
    log(f"rendering synthetic bursts from {data_root} at {spec.height}x{spec.width} ...")
    syn = build_synthetic(data_root, spec, seed, limit)
    arrays = _flatten("syn", syn)
    parts = {}
    for name, folder in (("train", "bursts-train"), ("dev", "bursts-dev")):
        if (data_root / folder).is_dir():
            log(f"reading {folder} ...")
            parts[name] = load_graded(data_root / folder, spec)
            arrays.update(_flatten(name, parts[name]))
    meta = {"version": CACHE_VERSION, "spec": spec.to_metadata(), "seed": seed, "limit": limit,
            "data_root": str(data_root)}
    arrays["meta"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return TrainingData(syn, parts.get("train"), parts.get("dev"))


def load_cache(path: Path, spec: InputSpec, data_root: Path | None = None) -> TrainingData | None:
    """The cache at `path` if it exists and matches this input size, version and (if given)
    data folder, else None."""
    if not path.is_file():
        return None
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("version") != CACHE_VERSION or meta.get("spec") != spec.to_metadata():
            return None
        if data_root is not None and Path(meta["data_root"]).resolve() != Path(data_root).resolve():
            return None
        groups: dict[str, dict] = {}
        for k in z.files:
            if "/" in k:
                g, name = k.split("/", 1)
                groups.setdefault(g, {})[name] = z[k]
    return TrainingData(groups["syn"], groups.get("train"), groups.get("dev"))


def cache_path(runs: Path, spec: InputSpec, limit: int | None = None) -> Path:
    tag = f"_limit{limit}" if limit else ""
    return runs / "cache" / f"data_{spec.height}x{spec.width}_v{CACHE_VERSION}{tag}.npz"


def get_data(data_root: Path, spec: InputSpec, runs: Path, *, limit: int | None = None,
             log=print) -> TrainingData:
    if not Path(data_root).is_dir():
        raise DataError(f"data folder not found: {data_root}")
    path = cache_path(runs, spec, limit)
    data = load_cache(path, spec, data_root)
    if data is None:
        data = build_cache(data_root, spec, path, limit=limit, log=log)
    else:
        log(f"using cached data {path}")
    return data
