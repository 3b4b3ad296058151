"""The live app's fast paths (issue 6): previews made at the size they are painted, painted as a
plain copy, the overlay drawn once per score, burst images made while the burst is collected."""
from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QColor, QImage  # noqa: E402

from viewfinder.camera import SyntheticSource  # noqa: E402
from viewfinder.config import BufferConfig  # noqa: E402
from viewfinder.frames import Burst, FaceBox, Frame, Score, ScoredFrame  # noqa: E402
from viewfinder.ui import scoring_thread as scoring_mod  # noqa: E402
from viewfinder.ui.capture_thread import CaptureThread  # noqa: E402
from viewfinder.ui.images import downscale, fit_size, to_qimage  # noqa: E402
from viewfinder.ui.overlay_widget import OverlayWidget  # noqa: E402
from viewfinder.ui.preview_widget import PreviewWidget  # noqa: E402
from viewfinder.ui.scoring_thread import LiveScore, ScoringThread  # noqa: E402


def colour_frame(w: int = 64, h: int = 36) -> np.ndarray:
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[:, : w // 2] = (255, 0, 0)  # BGR: blue on the left
    pixels[:, w // 2:] = (0, 0, 255)  # red on the right
    return pixels


def test_to_qimage_is_rgb32_with_the_right_colours_size_and_mirroring():
    image = to_qimage(colour_frame())
    assert image.format() == QImage.Format.Format_RGB32
    assert (image.width(), image.height()) == (64, 36)
    assert image.pixelColor(2, 2) == QColor(0, 0, 255)  # BGR blue in, RGB blue out
    assert image.pixelColor(60, 2) == QColor(255, 0, 0)
    mirrored = to_qimage(colour_frame(), mirror=True)
    assert mirrored.pixelColor(2, 2) == QColor(255, 0, 0)
    small = to_qimage(colour_frame(), size=(32, 18))
    assert (small.width(), small.height()) == (32, 18)
    assert to_qimage(colour_frame(), 16).width() == 16
    assert to_qimage(colour_frame(), 640).width() == 64  # never enlarged
    grey = to_qimage(np.full((10, 20), 77, np.uint8))
    assert grey.pixelColor(3, 3) == QColor(77, 77, 77)


def test_fit_size_never_enlarges_and_keeps_the_aspect():
    assert fit_size(1280, 720, 1280, 650) == (1156, 650)
    assert fit_size(1280, 720, 4000, 4000) == (1280, 720)
    assert fit_size(160, 90, 1, 1) == (1, 1)


def test_a_small_shrink_is_linear_and_a_large_one_area():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (72, 128, 3), np.uint8)
    assert np.array_equal(downscale(pixels, (96, 54)),
                          cv2.resize(pixels, (96, 54), interpolation=cv2.INTER_LINEAR))
    assert np.array_equal(downscale(pixels, (32, 18)),
                          cv2.resize(pixels, (32, 18), interpolation=cv2.INTER_AREA))
    assert downscale(pixels, (128, 72)) is pixels


def test_an_image_at_the_widgets_size_is_painted_exactly(qtbot):
    widget = PreviewWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    with qtbot.waitSignal(widget.box_changed) as got:
        widget.show()
    assert tuple(got.args) == widget.box_size() == (400, 300)
    pixels = np.random.default_rng(1).integers(0, 255, (225, 400, 3), np.uint8)
    widget.set_image(to_qimage(pixels))  # 400x225: fits the width, letterboxed
    shot = widget.grab().toImage()
    top = round(widget.image_rect().y())  # 37.5: the copy lands on a whole pixel
    for x, y in ((0, 0), (123, 45), (399, 224)):
        b, g, r = (int(v) for v in pixels[y, x])
        assert shot.pixelColor(QPoint(x, top + y)) == QColor(r, g, b)
    assert shot.pixelColor(QPoint(5, 5)) == QColor(0, 0, 0)  # the black band


def test_the_capture_thread_makes_previews_that_fit_the_box(qtbot):
    scoring = ScoringThread(_ConstScorer())
    capture = CaptureThread(SyntheticSource(size=(320, 180), fps=30), BufferConfig(), scoring)
    capture.set_preview_box(200, 200)
    scoring.start()
    capture.start()
    try:
        qtbot.waitUntil(lambda: capture.take_preview() is not None, timeout=5000)
        capture.set_preview_box(160, 60)  # taller than the view now: fits the height
        qtbot.waitUntil(lambda: capture.take_preview().image.height() == 60, timeout=5000)
        assert capture.take_preview().image.width() == round(60 * 320 / 180)
    finally:
        capture.stop()
        scoring.stop()


def test_the_overlay_draws_once_per_change_and_shows_the_new_score(qtbot):
    overlay = OverlayWidget()
    qtbot.addWidget(overlay)
    overlay.resize(640, 360)
    overlay.set_scorer("test", ("a",))
    overlay.show()
    qtbot.waitExposed(overlay)
    renders = []
    real = overlay._render
    overlay._render = lambda dpr: (renders.append(dpr), real(dpr))
    face = FaceBox(0.4, 0.3, 0.2, 0.3, eyes_open=0.9)
    overlay.add_score(LiveScore(ScoredFrame(0, 0, Score(0.25, {"a": 0.5}, (), (face,)), 5.0), 0))
    first = overlay.grab().toImage()
    overlay.grab()
    assert len(renders) == 1  # painted twice, drawn once
    overlay.add_score(LiveScore(ScoredFrame(1, 10**8, Score(0.75, {"a": 0.9}), 5.0), 0))
    second = overlay.grab().toImage()
    assert len(renders) == 2 and first != second
    # the cached panels land where they were drawn: the score panel differs from empty space
    assert second.pixelColor(QPoint(40, 40)) != second.pixelColor(QPoint(600, 200))


class _ConstScorer:
    name, version, attribute_names = "const", "1", ()

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()

    def score(self, pixels: np.ndarray) -> Score:
        self.gate.wait(5)
        return Score(float(pixels[0, 0, 0]), {})


def test_burst_images_are_made_while_collecting_and_reused_at_ranking(qtbot, monkeypatch):
    made = []
    real = scoring_mod._review_images
    monkeypatch.setattr(scoring_mod, "_review_images", lambda f: (made.append(f.index), real(f))[1])
    thread = ScoringThread(_ConstScorer())
    thread.start()
    try:
        frames = [Frame(i, i * 10**8, np.full((90, 160, 3), 10 * i, np.uint8)) for i in range(5)]
        thread.prepare_images(frames[:4])
        qtbot.waitUntil(lambda: len(made) == 4, timeout=5000)
        with qtbot.waitSignal(thread.burst_ranked, timeout=5000) as got:
            thread.submit_burst(Burst(tuple(frames), shutter_pos=2, press_t_ns=frames[2].t_ns))
        review = got.args[0]
        assert made == [0, 1, 2, 3, 4]  # only the last frame's images were made at ranking
        assert [p.pixelColor(0, 0).red() for p in review.previews] == [0, 10, 20, 30, 40]
        assert (review.previews[0].width(), review.thumbs[0].width()) == (160, 160)
        assert not thread._images  # nothing held after the ranking
    finally:
        thread.stop()
