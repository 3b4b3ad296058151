"""Saving: atomic photo + sidecar, EXIF, no overwrite, nothing partial left on failure."""
import errno
import json
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from viewfinder import __version__, storage
from viewfinder.frames import Burst, FaceBox, Frame, Score
from viewfinder.ranking import rank
from viewfinder.storage import SavedPhoto, StorageError, save_best

NOW = datetime(2026, 12, 4, 20, 45, 12, 123456)


def make_burst(n=5):
    frames = []
    for i in range(n):
        px = np.zeros((48, 64, 3), np.uint8)
        px[:, :32] = (0, 0, 255)  # left half red (BGR)
        px[:, 32:] = (255, 0, 0)  # right half blue
        px[0, 0] = (i, i, i)
        frames.append(Frame(index=100 + i, t_ns=i * 100_000_000, pixels=px))
    b = Burst(frames=tuple(frames), shutter_pos=2, press_t_ns=200_000_000)
    face = FaceBox(0.25, 0.1, 0.5, 0.6, eyes_open=0.02)
    scores = [Score(1.0, {"sharpness": 0.1}),
              Score(3.0, {"sharpness": 0.3}, ("eyes closed",), faces=(face,)),
              None, Score(5.0, {"sharpness": float("nan")}), Score(2.0)][:n]
    return b, rank(b, scores)


def save(folder, chosen=None, **kw):
    b, r = make_burst()
    frame = b.frames[r.best.pos if chosen is None else chosen]
    kw.setdefault("now", NOW)
    return save_best(frame, r, b, folder=folder, scorer_name="sharpness", scorer_version="1", **kw)


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*"))


def test_saves_a_jpeg_with_exif_and_a_sidecar(tmp_path):
    saved = save(tmp_path)
    assert saved.path.name == "VF_20261204_204512_123.jpg"
    assert saved.sidecar.name == "VF_20261204_204512_123.json"
    assert listing(tmp_path) == [saved.path.name, saved.sidecar.name]  # no temp files left
    with Image.open(saved.path) as im:
        assert im.format == "JPEG" and im.size == (64, 48)
        exif = im.getexif()
        assert exif[0x0131] == f"viewfinder {__version__}"
        assert exif.get_ifd(0x8769)[0x9003] == "2026:12:04 20:45:12"
        rgb = np.asarray(im.convert("RGB"))
    # pixels are RGB in the file and not mirrored: red stays on the left
    assert rgb[24, 8, 0] > 200 and rgb[24, 8, 2] < 60
    assert rgb[24, 56, 2] > 200 and rgb[24, 56, 0] < 60


def test_sidecar_holds_the_ranking_in_capture_order(tmp_path):
    saved = save(tmp_path)
    doc = json.loads(saved.sidecar.read_text())
    assert doc["photo"] == saved.path.name
    assert doc["scorer"] == {"name": "sharpness", "version": "1"}
    assert doc["chosen"] == {"frame_index": 103, "pos": 3, "t_ns": 300_000_000, "score": 5.0}
    assert doc["best_by_scorer"] == doc["chosen"]
    assert doc["burst"]["short"] is False and doc["burst"]["press_t_ns"] == 200_000_000
    fr = doc["burst"]["frames"]
    assert [f["pos"] for f in fr] == [0, 1, 2, 3, 4]
    assert [f["rank"] for f in fr] == [4, 2, 5, 1, 3]
    assert fr[0]["t_rel_ms"] == -200.0 and fr[4]["t_rel_ms"] == 200.0
    assert fr[1]["reasons"] == ["eyes closed"] and fr[1]["attributes"] == {"sharpness": 0.3}
    assert fr[1]["faces"] == [{"x": 0.25, "y": 0.1, "w": 0.5, "h": 0.6, "eyes_open": 0.02}]
    assert fr[2]["score"] is None and fr[2]["attributes"] == {} and fr[2]["faces"] == []
    assert fr[3]["attributes"] == {"sharpness": None}  # NaN is not valid JSON
    assert doc["history"] == [] and doc["saved_at"].startswith("2026-12-04T20:45:12.123")


def test_png_carries_software_and_time(tmp_path):
    saved = save(tmp_path, fmt="png")
    assert saved.path.suffix == ".png"
    with Image.open(saved.path) as im:
        assert im.format == "PNG"
        assert im.text["Software"] == f"viewfinder {__version__}"
        assert im.text["Creation Time"].startswith("2026-12-04T20:45:12")
        assert np.asarray(im)[24, 8, 0] == 255  # red on the left, exactly (lossless)


def test_never_overwrites_an_existing_name(tmp_path):
    (tmp_path / "VF_20261204_204512_123.jpg").write_bytes(b"precious")
    (tmp_path / "VF_20261204_204512_123-2.json").write_text("{}")  # a lone sidecar also counts
    saved = save(tmp_path)
    assert saved.path.name == "VF_20261204_204512_123-3.jpg"
    assert (tmp_path / "VF_20261204_204512_123.jpg").read_bytes() == b"precious"
    assert (tmp_path / "VF_20261204_204512_123-2.json").read_text() == "{}"
    again = save(tmp_path)
    assert again.path.name == "VF_20261204_204512_123-4.jpg"


def test_publish_refuses_a_taken_name(tmp_path):
    tmp = tmp_path / "t"
    tmp.write_bytes(b"new")
    dest = tmp_path / "d"
    dest.write_bytes(b"old")
    assert storage._publish(tmp, dest) is False
    assert dest.read_bytes() == b"old"


def test_missing_folder_is_created(tmp_path):
    saved = save(tmp_path / "a" / "b")
    assert saved.path.is_file() and saved.sidecar.is_file()


def test_folder_that_cannot_exist_names_the_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match="file"):
        save(tmp_path / "file" / "photos")


def failing_writer(fail_on_call, after_bytes, err=errno.ENOSPC):
    calls = []

    def write(f, data):
        calls.append(len(data))
        if len(calls) == fail_on_call:
            f.write(data[:after_bytes])
            raise OSError(err, os.strerror(err))
        f.write(data)

    return write


@pytest.mark.parametrize("fail_on_call,after", [(1, 0), (1, 500), (2, 10)])
def test_disk_full_leaves_nothing_behind(tmp_path, monkeypatch, fail_on_call, after):
    (tmp_path / "old.jpg").write_bytes(b"keep")
    monkeypatch.setattr(storage, "write_bytes", failing_writer(fail_on_call, after))
    with pytest.raises(StorageError, match=str(tmp_path)) as e:
        save(tmp_path)
    assert "No space left" in str(e.value) and "\n" not in str(e.value)
    assert listing(tmp_path) == ["old.jpg"]  # no photo without sidecar, no temp file
    assert (tmp_path / "old.jpg").read_bytes() == b"keep"


def test_unwritable_folder_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "write_bytes", failing_writer(1, 0, errno.EACCES))
    with pytest.raises(StorageError, match="Permission denied"):
        save(tmp_path)
    assert listing(tmp_path) == []


def test_replacing_keeps_the_earlier_photo_in_history(tmp_path):
    first = save(tmp_path)
    first_bytes = first.path.read_bytes()
    later = datetime(2026, 12, 4, 20, 45, 20, 0)
    second = save(tmp_path, chosen=1, now=later, replaces=first)
    assert not first.path.exists() and not first.sidecar.exists()
    kept = tmp_path / ".replaced" / first.path.name
    assert kept.read_bytes() == first_bytes
    doc = json.loads(second.sidecar.read_text())
    assert doc["chosen"]["pos"] == 1 and doc["best_by_scorer"]["pos"] == 3
    assert doc["history"][0]["photo"] == f".replaced/{first.path.name}"
    assert doc["history"][0]["chosen"]["pos"] == 3
    third = save(tmp_path, chosen=0, now=datetime(2026, 12, 4, 20, 45, 30), replaces=second)
    hist = json.loads(third.sidecar.read_text())["history"]
    assert [h["chosen"]["pos"] for h in hist] == [3, 1]
    assert listing(tmp_path) == sorted([".replaced", f".replaced/{first.path.name}",
                                        f".replaced/{second.path.name}", third.path.name,
                                        third.sidecar.name])


def test_failed_replacement_leaves_the_earlier_pair_alone(tmp_path, monkeypatch):
    first = save(tmp_path)
    before = {p: (tmp_path / p).read_bytes() for p in listing(tmp_path)}
    monkeypatch.setattr(storage, "write_bytes", failing_writer(2, 0))
    with pytest.raises(StorageError):
        save(tmp_path, chosen=1, now=datetime(2026, 12, 4, 20, 46), replaces=first)
    after = [p for p in listing(tmp_path) if p != ".replaced"]
    assert after == sorted(before) and all((tmp_path / p).read_bytes() == v
                                           for p, v in before.items())


def test_replacing_a_photo_the_user_deleted(tmp_path):
    first = save(tmp_path)
    first.path.unlink()
    second = save(tmp_path, chosen=0, now=datetime(2026, 12, 4, 21), replaces=first)
    hist = json.loads(second.sidecar.read_text())["history"]
    assert hist[0]["photo"] is None and hist[0]["was"] == first.path.name
    assert not first.sidecar.exists()


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(StorageError, match="format"):
        save(tmp_path, fmt="gif")
    with pytest.raises(StorageError, match="quality"):
        save(tmp_path, quality=0)
    b, r = make_burst()
    grey = Frame(index=0, t_ns=0, pixels=np.zeros((4, 4), np.uint8))
    with pytest.raises(StorageError, match="shape"):
        save_best(grey, r, b, folder=tmp_path, scorer_name="s", scorer_version="1")
    assert listing(tmp_path) == []


def test_saved_photo_is_a_plain_value(tmp_path):
    s = SavedPhoto(path=tmp_path / "a.jpg", sidecar=tmp_path / "a.json")
    assert s == SavedPhoto(path=tmp_path / "a.jpg", sidecar=tmp_path / "a.json")


def test_saved_photo_is_readable_like_any_new_file(tmp_path):
    """A photo in the Pictures folder gets normal permissions, not mkstemp's private 0600."""
    import os
    import stat

    from viewfinder import storage

    tmp = storage._write_temp(tmp_path, b"x")
    try:
        mode = stat.S_IMODE(os.stat(tmp).st_mode)
        assert mode == 0o666 & ~storage._UMASK
    finally:
        tmp.unlink()
