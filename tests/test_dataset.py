"""Loading the burst dataset format, burst folders, images and videos, with clear errors."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from viewfinder.dataset import (DatasetError, cut_video, find_bursts, load_burst_folder,
                                load_dataset, read_image)


def write_png(path: Path, seed: int = 0, size=(24, 32)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = (np.random.default_rng(seed).random((*size, 3)) * 255).astype(np.uint8)
    assert cv2.imwrite(str(path), img)


def make_dataset(root: Path, pairs: str = "burst,a,b,label\nb1,f0.png,f1.png,2\nb1,f1.png,f2.png,0\n",
                 bursts=(("b1", ("f0.png", "f1.png", "f2.png")),)) -> Path:
    for burst, frames in bursts:
        for i, name in enumerate(frames):
            write_png(root / "bursts" / burst / name, seed=i)
    (root / "pairs.csv").write_text(pairs)
    return root


def test_loads_bursts_in_file_name_order_and_the_pairs(tmp_path):
    root = make_dataset(tmp_path / "ds", bursts=(("b1", ("f2.png", "f0.png", "f1.png")),
                                                 ("a0", ("x.png",))))
    (root / "bursts" / "b1" / "notes.txt").write_text("ignored")
    (root / "grades.csv").write_text("burst,frame,grade\n")  # optional, ignored
    ds = load_dataset(root)
    assert [b.id for b in ds.bursts] == ["a0", "b1"]
    assert ds.bursts[1].names == ("f0.png", "f1.png", "f2.png")
    assert [(p.a, p.b, p.label) for p in ds.pairs_of("b1")] == [("f0.png", "f1.png", 2),
                                                                ("f1.png", "f2.png", 0)]


@pytest.mark.parametrize("pairs, message", [
    ("burst,a,b\nb1,f0.png,f1.png\n", "header must be burst,a,b,label"),
    ("", "header must be burst,a,b,label"),
    ("burst,a,b,label\nb1,f0.png,nope.png,1\n", "line 2: frame 'nope.png' does not exist in burst 'b1'"),
    ("burst,a,b,label\nb9,f0.png,f1.png,1\n", "line 2: burst 'b9' has no folder"),
    ("burst,a,b,label\nb1,f0.png,f1.png,3\n", "line 2: label 3 is outside 0..2"),
    ("burst,a,b,label\nb1,f0.png,f1.png,-1\n", "line 2: label -1 is outside 0..2"),
    ("burst,a,b,label\nb1,f0.png,f1.png,good\n", "line 2: label 'good' is not 0, 1 or 2"),
    ("burst,a,b,label\nb1,f0.png\n", "line 2: expected 4 fields"),
    ("burst,a,b,label\nb1,f0.png,f0.png,0\n", "line 2: pairs a frame with itself"),
    ("burst,a,b,label\nb1,f0.png,f1.png,1\nb1,f1.png,f0.png,0\n", "line 3: pair .* listed twice"),
])
def test_bad_pairs_csv_is_one_clear_line_naming_the_line(tmp_path, pairs, message):
    root = make_dataset(tmp_path / "ds", pairs=pairs)
    with pytest.raises(DatasetError, match=message) as err:
        load_dataset(root)
    assert "\n" not in str(err.value)


def test_missing_folders_and_files(tmp_path):
    with pytest.raises(DatasetError, match="dataset folder not found"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "ds").mkdir()
    with pytest.raises(DatasetError, match="no bursts/ folder"):
        load_dataset(tmp_path / "ds")
    write_png(tmp_path / "ds" / "bursts" / "b1" / "f0.png")
    with pytest.raises(DatasetError, match="pairs.csv not found"):
        load_dataset(tmp_path / "ds")


def test_an_empty_burst_is_an_error_naming_it(tmp_path):
    root = make_dataset(tmp_path / "ds")
    (root / "bursts" / "b2").mkdir()
    (root / "bursts" / "b2" / "readme.txt").write_text("no frames here")
    with pytest.raises(DatasetError, match=r"empty burst: .*b2"):
        load_dataset(root)


def test_find_bursts_accepts_a_burst_a_folder_of_bursts_or_a_dataset(tmp_path):
    root = make_dataset(tmp_path / "ds", bursts=(("b1", ("f0.png", "f1.png")), ("b2", ("g.png",))))
    assert [b.id for b in find_bursts(root)] == ["b1", "b2"]
    assert [b.id for b in find_bursts(root / "bursts")] == ["b1", "b2"]
    assert [b.names for b in find_bursts(root / "bursts" / "b1")] == [("f0.png", "f1.png")]
    with pytest.raises(DatasetError, match="not found"):
        find_bursts(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no frames and no burst folders"):
        find_bursts(tmp_path / "empty")
    with pytest.raises(DatasetError, match="burst folder not found"):
        load_burst_folder(tmp_path / "missing")


def test_read_image_names_the_unreadable_file(tmp_path):
    write_png(tmp_path / "ökay.png")  # non-ASCII path
    assert read_image(tmp_path / "ökay.png").shape == (24, 32, 3)
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "junk.jpg").write_bytes(b"not a jpeg at all")
    good = (tmp_path / "ökay.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[:20])
    for name in ("zero.png", "junk.jpg", "cut.png", "missing.png"):
        with pytest.raises(DatasetError, match=name):
            read_image(tmp_path / name)


def write_video(path: Path, n: int, size=(64, 48)) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size)
    assert w.isOpened()
    rng = np.random.default_rng(0)
    for _ in range(n):
        w.write((rng.random((size[1], size[0], 3)) * 255).astype(np.uint8))
    w.release()
    return path


def test_cut_video_takes_every_stride_th_frame_into_consecutive_bursts(tmp_path):
    video = write_video(tmp_path / "clip.mp4", 40)
    bursts = list(cut_video(video, burst_size=5, stride=3))
    # frames 0, 3, ..., 39 (14 of them) -> 5 + 5 + a shorter last burst of 4
    assert [b.id for b in bursts] == ["clip_000", "clip_001", "clip_002"]
    assert [len(b.names) for b in bursts] == [5, 5, 4]
    assert bursts[0].names == ("frame_000000", "frame_000003", "frame_000006", "frame_000009",
                               "frame_000012")
    assert bursts[1].names[0] == "frame_000015"
    assert bursts[0].pixels[0].shape == (48, 64, 3)


def test_cut_video_errors(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        list(cut_video(tmp_path / "none.mp4"))
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(DatasetError, match="bad.mp4"):
        list(cut_video(tmp_path / "bad.mp4"))
