"""Fault injection on saving: a disk that fills up after K bytes (every K), failing fsync / link /
temp-file creation, read-only folders, concurrent saves. After any failure the folder holds
exactly what it held before (no partial file, nothing overwritten, photo and sidecar together or
not at all), and the same burst, still in memory, saves fine on a retry elsewhere.
"""
from __future__ import annotations

import errno
import json
import os
import tempfile
import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from viewfinder import storage
from viewfinder.frames import Burst, Frame, Score
from viewfinder.ranking import rank
from viewfinder.storage import StorageError, save_best

NOW = datetime(2026, 12, 4, 20, 45, 12, 123456)
STEM = "VF_20261204_204512_123"


def burst_and_ranking():
    rng = np.random.default_rng(3)
    frames = tuple(Frame(index=i, t_ns=i * 100_000_000,
                         pixels=rng.integers(0, 255, (60, 80, 3), dtype=np.uint8))
                   for i in range(5))
    burst = Burst(frames, shutter_pos=2, press_t_ns=frames[2].t_ns)
    return burst, rank(burst, [Score(float(i % 3), {"sharpness": 0.5}) for i in range(5)])


def save(folder, burst, ranking, **kw):
    kw.setdefault("now", NOW)
    return save_best(burst.frames[ranking.best.pos], ranking, burst, folder=folder,
                     scorer_name="sharpness", scorer_version="1", **kw)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def assert_valid_pair(saved, burst):
    with Image.open(saved.path) as im:
        im.load()
        assert im.size == burst.frames[0].size
    side = json.loads(saved.sidecar.read_text())
    assert side["photo"] == saved.path.name and len(side["burst"]["frames"]) == len(burst.frames)
    assert saved.path.stem == saved.sidecar.stem


def disk_with(budget: int, err=errno.ENOSPC):
    """write_bytes for a disk with `budget` free bytes over all writes: a partial write, then
    the OSError, exactly as a full disk behaves."""
    left = [budget]

    def write(f, data):
        if len(data) <= left[0]:
            left[0] -= len(data)
            f.write(data)
            return
        f.write(data[:left[0]])
        left[0] = 0
        raise OSError(err, os.strerror(err))

    return write


def _sizes(tmp_path):
    """Bytes of the photo and the sidecar of a save, measured once."""
    burst, ranking = burst_and_ranking()
    probe = save(tmp_path / "probe", burst, ranking)
    return probe.path.stat().st_size, probe.sidecar.stat().st_size


def test_disk_full_after_any_number_of_bytes_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    photo, side = _sizes(tmp_path)
    total = photo + side
    budgets = sorted({0, 1, 2, photo // 3, photo - 1, photo, photo + 1, photo + side // 2,
                      total - 1, *range(0, total, max(1, total // 15))})
    burst, ranking = burst_and_ranking()
    folder = tmp_path / "photos"
    folder.mkdir()
    # an earlier shot with the very name this save wants: it must survive untouched
    (folder / f"{STEM}.jpg").write_bytes(b"earlier photo")
    (folder / f"{STEM}.json").write_text('{"earlier": true}')
    before = snapshot(folder)
    for budget in budgets:
        monkeypatch.setattr(storage, "write_bytes", disk_with(budget))
        with pytest.raises(StorageError) as e:
            save(folder, burst, ranking)
        assert str(folder) in str(e.value) and "No space left" in str(e.value)
        assert snapshot(folder) == before, f"disk full after {budget} bytes left debris"
    # the burst is still in memory: retry into another folder, then into this one once freed
    monkeypatch.undo()  # space freed
    other = save(tmp_path / "elsewhere" / "nested", burst, ranking)
    assert_valid_pair(other, burst)
    again = save(folder, burst, ranking)
    assert again.path.name == f"{STEM}-2.jpg" and again.sidecar.name == f"{STEM}-2.json"
    assert_valid_pair(again, burst)
    assert (folder / f"{STEM}.jpg").read_bytes() == b"earlier photo"


@pytest.mark.parametrize("target, call", [("fsync", 1), ("fsync", 2), ("link", 2),
                                          ("mkstemp", 1), ("mkstemp", 2)])
def test_failing_fsync_link_or_temp_file_leaves_nothing(tmp_path, monkeypatch, target, call):
    burst, ranking = burst_and_ranking()
    (tmp_path / "keep.jpg").write_bytes(b"keep")
    before = snapshot(tmp_path)
    real = {"fsync": os.fsync, "link": os.link, "mkstemp": tempfile.mkstemp}[target]
    calls = []

    def flaky(*a, **kw):
        calls.append(1)
        if len(calls) == call:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(*a, **kw)

    monkeypatch.setattr({"fsync": os, "link": os, "mkstemp": tempfile}[target], target, flaky)
    with pytest.raises(StorageError, match="Input/output error"):
        save(tmp_path, burst, ranking)
    assert snapshot(tmp_path) == before
    monkeypatch.undo()
    assert_valid_pair(save(tmp_path, burst, ranking), burst)


def test_read_only_folder_is_a_clear_error_and_a_retry_elsewhere_works(tmp_path, monkeypatch):
    # tests run as root, which ignores permission bits: simulate the kernel's answer instead
    burst, ranking = burst_and_ranking()

    def read_only(*a, **kw):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(StorageError, match="Read-only file system") as e:
        save(tmp_path / "ro", burst, ranking)
    assert str(tmp_path / "ro") in str(e.value) and "\n" not in str(e.value)
    assert list((tmp_path / "ro").iterdir()) == []
    monkeypatch.undo()
    assert_valid_pair(save(tmp_path / "rw", burst, ranking), burst)


def test_a_folder_under_a_regular_file_is_a_clear_error(tmp_path):
    burst, ranking = burst_and_ranking()
    (tmp_path / "photos.txt").write_text("not a folder")
    with pytest.raises(StorageError, match="photos.txt"):
        save(tmp_path / "photos.txt" / "Viewfinder", burst, ranking)
    with pytest.raises(StorageError, match="not a folder|cannot create"):
        save(tmp_path / "photos.txt", burst, ranking)
    assert (tmp_path / "photos.txt").read_text() == "not a folder"


def test_interrupted_save_leaves_nothing(tmp_path, monkeypatch):
    """Even an exception that is not an OSError (Ctrl+C mid-write) cleans up."""
    burst, ranking = burst_and_ranking()
    calls = []

    def interrupted(f, data):
        calls.append(1)
        f.write(data[: len(data) // 2])
        if len(calls) == 2:
            raise KeyboardInterrupt
        f.write(data[len(data) // 2:])

    monkeypatch.setattr(storage, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path, burst, ranking)
    assert snapshot(tmp_path) == {}


def test_concurrent_saves_of_the_same_moment_never_overwrite(tmp_path):
    burst, ranking = burst_and_ranking()
    results, errors = [], []

    def one():
        try:
            results.append(save(tmp_path, burst, ranking))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len({r.path for r in results}) == 6 and len({r.sidecar for r in results}) == 6
    for r in results:
        assert_valid_pair(r, burst)
    assert len(list(tmp_path.glob("*.jpg"))) == 6 and len(list(tmp_path.glob("*.json"))) == 6
    assert not list(tmp_path.glob(".VF_*"))


def test_failed_replacement_at_any_byte_keeps_the_earlier_pair(tmp_path, monkeypatch):
    burst, ranking = burst_and_ranking()
    first = save(tmp_path, burst, ranking)
    before = snapshot(tmp_path)
    photo, side = first.path.stat().st_size, first.sidecar.stat().st_size
    for budget in (0, photo // 2, photo + 1, photo + side // 2):
        monkeypatch.setattr(storage, "write_bytes", disk_with(budget))
        with pytest.raises(StorageError):
            save(tmp_path, burst, ranking, now=datetime(2026, 12, 4, 21), replaces=first)
        after = {k: v for k, v in snapshot(tmp_path).items() if k != ".replaced"}
        assert after == before
