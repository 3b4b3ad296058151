"""Sources: specs, cameras (faked), video files and image folders, bad input as clear errors."""
import os
import time

import cv2
import numpy as np
import pytest

from viewfinder.camera import SourceError, as_bgr, list_cameras, open_source, opencv_camera
from viewfinder.camera.image_folder import ImageFolderSource
from viewfinder.camera.opencv_camera import OpenCVCamera
from viewfinder.camera.video_file import VideoFileSource


def one_line_error(spec):
    with pytest.raises(SourceError) as e:
        src = open_source(spec)
        src.open()
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


def test_unknown_specs_are_one_line_errors(tmp_path):
    assert "no such file or folder" in one_line_error(str(tmp_path / "missing.mp4"))
    assert "camera index" in one_line_error("")
    assert "bad camera" in one_line_error("camera:front")


def test_missing_camera(tmp_path):
    if os.path.exists("/dev/video9"):
        pytest.skip("this machine has a /dev/video9")
    assert "no camera at index 9" in one_line_error("9")
    assert "no camera at index 9" in one_line_error("camera:9")


def test_list_cameras_returns_quickly():
    found = list_cameras(max_index=3)
    assert isinstance(found, list) and all(isinstance(i, int) for i in found)


class FakeCapture:
    """VideoCapture stand-in: a script of (ok, image) reads."""

    def __init__(self, script, opened=True):
        self.script, self.opened, self.released = list(script), opened, False

    def isOpened(self):
        return self.opened

    def read(self):
        return self.script.pop(0) if self.script else (False, None)

    def get(self, prop):
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self):
        self.released = True


def img(v, shape=(24, 32, 3)):
    return np.full(shape, v, np.uint8)


def fake_camera(monkeypatch, script, opened=True):
    cap = FakeCapture(script, opened)
    monkeypatch.setattr(opencv_camera.cv2, "VideoCapture", lambda index: cap)
    return OpenCVCamera(0), cap


def test_camera_skips_corrupt_frames_then_reports_the_unplug(monkeypatch):
    script = [(True, img(1)), (True, img(2)), (True, None), (True, img(3, (10, 10, 3))),
              (True, np.zeros((0, 0, 3), np.uint8)), (True, img(4, (24, 32))), (False, None)]
    cam, cap = fake_camera(monkeypatch, script)
    cam.open()
    assert cam.is_camera and cam.live and cam.name == "Camera 0"
    got = [cam.read() for _ in range(3)]
    assert [int(f.pixels[0, 0, 0]) for f in got] == [1, 2, 4]  # grey frame became BGR
    assert got[2].pixels.shape == (24, 32, 3)
    assert cam.bad_frames == 3
    assert got[0].t_ns <= got[1].t_ns <= got[2].t_ns <= time.monotonic_ns()
    with pytest.raises(SourceError, match="stopped sending frames"):
        cam.read()
    cam.close()
    cam.close()
    assert cap.released


def test_camera_that_opens_but_sends_nothing(monkeypatch):
    cam, cap = fake_camera(monkeypatch, [(False, None)])
    with pytest.raises(SourceError, match="no camera at index 0"):
        cam.open()
    assert cap.released
    cam, _ = fake_camera(monkeypatch, [], opened=False)
    with pytest.raises(SourceError, match="no camera at index 0"):
        cam.open()


def write_video(path, n=12, fps=24.0, size=(96, 64)):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not w.isOpened():
        pytest.skip("OpenCV here cannot write mp4v")
    for i in range(n):
        w.write(np.full((size[1], size[0], 3), 10 + i * 200 // n, np.uint8))
    w.release()


def test_video_file_source(tmp_path):
    path = tmp_path / "clip.mp4"
    write_video(path)
    src = open_source(str(path))
    assert isinstance(src, VideoFileSource) and src.name == "clip.mp4"
    assert not src.live and not src.is_camera
    src.open()
    assert src.fps == pytest.approx(24.0)
    frames = []
    while (f := src.read()) is not None:
        frames.append(f)
    src.close()
    assert [f.index for f in frames] == list(range(12))
    assert [f.t_ns for f in frames] == [round(i * 1e9 / 24) for i in range(12)]
    assert all(f.pixels.shape == (64, 96, 3) for f in frames)
    means = [f.pixels.mean() for f in frames]
    assert means == sorted(means) and src.bad_frames == 0


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100])
def test_broken_video_is_a_clear_error(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    assert "cannot read" in one_line_error(str(path))


def test_truncated_video_is_a_clear_error_or_fewer_frames(tmp_path):
    path = tmp_path / "clip.mp4"
    write_video(path, n=30)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    src = VideoFileSource(path)
    try:
        src.open()
    except SourceError as e:
        assert "\n" not in str(e)
        return
    n = 0
    while src.read() is not None:
        n += 1
    assert n < 30


def test_image_folder_in_name_order_skipping_junk(tmp_path):
    cv2.imwrite(str(tmp_path / "b.png"), np.full((40, 50, 3), 20, np.uint8))
    cv2.imwrite(str(tmp_path / "a.jpg"), np.full((40, 50, 3), 200, np.uint8))
    cv2.imwrite(str(tmp_path / "c_grey.png"), np.full((30, 20), 90, np.uint8))
    (tmp_path / "d_corrupt.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (tmp_path / "e_empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub.png").mkdir()
    src = open_source(str(tmp_path))
    assert isinstance(src, ImageFolderSource) and not src.live and src.fps == 10.0
    src.open()
    frames = []
    while (f := src.read()) is not None:
        frames.append(f)
    src.close()
    assert [int(f.pixels[0, 0, 0]) for f in frames] == [200, 20, 90]
    assert frames[2].pixels.shape == (30, 20, 3)
    assert [f.t_ns for f in frames] == [0, 100_000_000, 200_000_000]
    assert src.bad_frames == 2


def test_folder_without_images_is_a_clear_error(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    assert "no images in" in one_line_error(str(tmp_path))


def test_reading_before_open_is_an_error(tmp_path):
    for src in (VideoFileSource(tmp_path / "x.mp4"), ImageFolderSource(tmp_path),
                OpenCVCamera(0)):
        with pytest.raises(SourceError, match="not open"):
            src.read()


def test_as_bgr_normalises_or_rejects():
    assert as_bgr(None) is None
    assert as_bgr(np.zeros((0, 5, 3), np.uint8)) is None
    assert as_bgr(np.zeros((5, 5, 2), np.uint8)) is None
    assert as_bgr(np.zeros((5, 5, 3), np.float32)) is None
    assert as_bgr(np.zeros((5, 5), np.uint8)).shape == (5, 5, 3)
    assert as_bgr(np.zeros((5, 5, 4), np.uint8)).shape == (5, 5, 3)
    assert as_bgr(np.full((5, 5, 3), 65535, np.uint16)).max() == 255
