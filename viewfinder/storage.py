"""Saving the chosen frame: an atomic photo + sidecar JSON pair that never overwrites anything.

Stage: ranking -> [storage]. Pure Python, no Qt; called from the save thread only (it does disk
I/O and may block).

Guarantees:
  - the photo and its sidecar exist together or not at all (a failure removes what it wrote);
  - every file is written to a temporary name in the target folder, flushed, fsynced, then
    published by a hard link, which fails instead of replacing an existing name (so a race with
    another writer cannot overwrite a photo); the temporary file is always removed;
  - names are timestamps (VF_20261204_204512_123.jpg), with -2, -3, ... when taken.
"""
from __future__ import annotations

import errno
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from viewfinder import __version__
from viewfinder.frames import Burst, Frame
from viewfinder.ranking import Ranking

SOFTWARE = f"viewfinder {__version__}"
REPLACED_DIR = ".replaced"
_FORMATS = {"jpeg": ".jpg", "jpg": ".jpg", "png": ".png"}
_MAX_SUFFIX = 1000


class StorageError(RuntimeError):
    """The photo could not be saved. One-line message naming the folder or file."""


@dataclass(frozen=True)
class SavedPhoto:
    path: Path
    sidecar: Path


def write_bytes(f: BinaryIO, data: bytes) -> None:
    """The one place file contents are written (tests replace it to simulate a full disk)."""
    f.write(data)


# -- encoding ---------------------------------------------------------------------------------
def encode_image(pixels: np.ndarray, fmt: str, quality: int, taken: datetime) -> bytes:
    """BGR pixels -> JPEG/PNG bytes (RGB, never mirrored) with DateTimeOriginal and Software."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise StorageError(f"cannot save a frame of shape {pixels.shape} {pixels.dtype}: "
                           "expected (H, W, 3) uint8")
    img = Image.fromarray(np.ascontiguousarray(pixels[:, :, ::-1]), "RGB")
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif = Image.Exif()
    exif[0x0131] = SOFTWARE  # Software
    exif[0x0132] = stamp  # DateTime
    ifd = exif.get_ifd(0x8769)  # Exif IFD
    ifd[0x9003] = stamp  # DateTimeOriginal
    ifd[0x9291] = f"{taken.microsecond // 1000:03d}"  # SubSecTimeOriginal
    buf = io.BytesIO()
    if fmt == ".jpg":
        img.save(buf, "JPEG", quality=int(quality), exif=exif.tobytes())
    else:
        info = PngInfo()
        info.add_text("Software", SOFTWARE)
        info.add_text("Creation Time", taken.isoformat(timespec="milliseconds"))
        img.save(buf, "PNG", pnginfo=info, exif=exif.tobytes())
    return buf.getvalue()


def _num(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _faces(score) -> list[dict]:
    return [{"x": _num(f.x), "y": _num(f.y), "w": _num(f.w), "h": _num(f.h),
             "eyes_open": None if f.eyes_open is None else _num(f.eyes_open)}
            for f in getattr(score, "faces", ())]


def sidecar_dict(photo_name: str, frame: Frame, ranking: Ranking, burst: Burst, *,
                 scorer_name: str, scorer_version: str, saved_at: datetime,
                 history: list[dict]) -> dict:
    """Everything needed to audit the choice: every frame's time, score, reasons and rank."""
    by_pos = {rf.pos: rf for rf in ranking.frames}
    chosen_pos = next((p for p, f in enumerate(burst.frames) if f is frame), None)
    if chosen_pos is None:
        chosen_pos = next((p for p, f in enumerate(burst.frames) if f.index == frame.index), None)

    def entry(rf):
        return {"frame_index": rf.frame_index, "pos": rf.pos, "t_ns": rf.t_ns,
                "score": None if rf.score is None else _num(rf.score.value)}

    frames = []
    for pos, f in enumerate(burst.frames):
        rf = by_pos.get(pos)
        s = rf.score if rf else None
        frames.append({
            "pos": pos, "frame_index": f.index, "t_ns": f.t_ns,
            "t_rel_ms": round((f.t_ns - burst.press_t_ns) / 1e6, 3),
            "score": None if s is None else _num(s.value),
            "attributes": {} if s is None else {k: _num(v) for k, v in s.attributes.items()},
            "reasons": [] if s is None else list(s.reasons),
            "faces": [] if s is None else _faces(s),
            "rank": rf.rank if rf else None,
        })
    chosen = (entry(by_pos[chosen_pos]) if chosen_pos in by_pos else
              {"frame_index": frame.index, "pos": chosen_pos, "t_ns": frame.t_ns, "score": None})
    return {
        "photo": photo_name,
        "scorer": {"name": scorer_name, "version": scorer_version},
        "chosen": chosen,
        "best_by_scorer": entry(ranking.best),
        "burst": {"short": burst.short, "press_t_ns": burst.press_t_ns,
                  "shutter_pos": burst.shutter_pos, "frames": frames},
        "history": history,
        "saved_at": saved_at.isoformat(timespec="milliseconds"),
        "software": SOFTWARE,
    }


# -- atomic files -----------------------------------------------------------------------------
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it

def _write_temp(folder: Path, data: bytes) -> Path:
    """Write `data` to a new temporary file in `folder`, flushed and fsynced."""
    fd, name = tempfile.mkstemp(prefix=".VF_", suffix=".tmp", dir=folder)
    tmp = Path(name)
    try:
        # mkstemp makes the file private (0600); a photo gets the permissions of any new file.
        os.chmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write_bytes(f, data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _publish(tmp: Path, dest: Path) -> bool:
    """Give the finished temp file its final name unless that name exists. False if taken."""
    try:
        os.link(tmp, dest)
        return True
    except FileExistsError:
        return False
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                           errno.EMLINK, errno.ENOSYS):
            raise
    # No hard links here (FAT, some network shares): claim the name exclusively, then move the
    # finished file onto our own empty claim.
    try:
        fd = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    try:
        os.replace(tmp, dest)
    except BaseException:
        _remove(dest)
        raise
    return True


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


def _prepare_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"cannot create output folder {folder}: {_reason(e)}") from None
    if not folder.is_dir():
        raise StorageError(f"output folder {folder} is not a folder")


def _save_pair(folder: Path, stem: str, ext: str, photo: bytes, make_sidecar) -> SavedPhoto:
    """Publish photo + sidecar under the first free VF_... name. All or nothing."""
    made: list[Path] = []
    try:
        tmp_photo = _write_temp(folder, photo)
        made.append(tmp_photo)
        for n in range(1, _MAX_SUFFIX + 1):
            name = stem if n == 1 else f"{stem}-{n}"
            path, side = folder / f"{name}{ext}", folder / f"{name}.json"
            if side.exists() or not _publish(tmp_photo, path):
                continue
            made.append(path)
            tmp_side = _write_temp(folder, make_sidecar(path.name))
            made.append(tmp_side)
            if not _publish(tmp_side, side):  # taken between the check and now
                _remove(path)
                made.remove(path)
                _remove(tmp_side)
                made.remove(tmp_side)
                continue
            made.append(side)
            _remove(tmp_photo)
            _remove(tmp_side)
            _fsync_dir(folder)
            return SavedPhoto(path=path, sidecar=side)
        raise StorageError(f"no free file name for {stem}{ext} in {folder}")
    except OSError as e:
        for p in made:
            _remove(p)
        raise StorageError(f"cannot save to {folder}: {_reason(e)}") from None
    except BaseException:
        for p in made:
            _remove(p)
        raise


def _link_into_replaced(old: SavedPhoto) -> Path | None:
    """Hard-link (or copy) the earlier photo into .replaced/ under a free name; None if gone."""
    if not old.path.is_file():
        return None
    dest_dir = old.path.parent / REPLACED_DIR
    try:
        dest_dir.mkdir(exist_ok=True)
        data = None
        for n in range(1, _MAX_SUFFIX + 1):
            dest = dest_dir / (old.path.name if n == 1 else f"{old.path.stem}-{n}{old.path.suffix}")
            try:
                os.link(old.path, dest)
                return dest
            except FileExistsError:
                continue
            except OSError:
                if data is None:
                    data = old.path.read_bytes()
                tmp = _write_temp(dest_dir, data)
                try:
                    if _publish(tmp, dest):
                        return dest
                finally:
                    _remove(tmp)
    except OSError as e:
        raise StorageError(f"cannot keep the replaced photo in {dest_dir}: {_reason(e)}") from None
    raise StorageError(f"no free file name for {old.path.name} in {dest_dir}")


def _old_record(old: SavedPhoto, kept: Path | None, now: datetime) -> list[dict]:
    try:
        prev = json.loads(old.sidecar.read_text(encoding="utf-8"))
        if not isinstance(prev, dict):
            prev = {}
    except (OSError, ValueError):
        prev = {}
    history = [h for h in prev.get("history", []) if isinstance(h, dict)]
    history.append({
        "photo": None if kept is None else f"{REPLACED_DIR}/{kept.name}",
        "was": old.path.name,
        "chosen": prev.get("chosen"),
        "saved_at": prev.get("saved_at"),
        "replaced_at": now.isoformat(timespec="milliseconds"),
    })
    return history


# -- the public entry point -------------------------------------------------------------------
def save_best(frame: Frame, ranking: Ranking, burst: Burst, *, folder: Path, fmt: str = "jpeg",
              quality: int = 95, scorer_name: str, scorer_version: str,
              now: datetime | None = None, replaces: SavedPhoto | None = None) -> SavedPhoto:
    """Save `frame` (the chosen one, normally ranking.best) with its sidecar. Raises StorageError.

    With `replaces`, the earlier photo is moved into `.replaced/` beside it and recorded in the
    new sidecar's `history`; its sidecar is removed. If saving fails, the earlier pair is untouched.
    """
    ext = _FORMATS.get(str(fmt).lower())
    if ext is None:
        raise StorageError(f"unknown photo format {fmt!r}: use jpeg or png")
    if not 1 <= int(quality) <= 100:
        raise StorageError(f"JPEG quality must be 1..100, got {quality}")
    folder = Path(folder).expanduser()
    now = now or datetime.now()
    photo = encode_image(frame.pixels, ext, quality, now)
    _prepare_folder(folder)
    stem = f"VF_{now:%Y%m%d_%H%M%S}_{now.microsecond // 1000:03d}"

    kept = _link_into_replaced(replaces) if replaces is not None else None
    history = _old_record(replaces, kept, now) if replaces is not None else []

    def make_sidecar(photo_name: str) -> bytes:
        doc = sidecar_dict(photo_name, frame, ranking, burst, scorer_name=scorer_name,
                           scorer_version=scorer_version, saved_at=now, history=history)
        return (json.dumps(doc, indent=2, allow_nan=False) + "\n").encode("utf-8")

    try:
        saved = _save_pair(folder, stem, ext, photo, make_sidecar)
    except BaseException:
        if kept is not None:
            _remove(kept)  # the earlier photo is still in place
        raise
    if replaces is not None:
        if kept is not None and replaces.path != saved.path:
            _remove(replaces.path)
        if replaces.sidecar != saved.sidecar:
            _remove(replaces.sidecar)
    return saved
