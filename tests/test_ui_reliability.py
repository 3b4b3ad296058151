"""Reliability in the real window (pytest-qt, offscreen): a camera unplugged mid-burst, a driver
that blocks, a scorer that throws, a broken model, a failing disk, and people pressing buttons
(held shutter, presses during a save, closing mid-capture, switching source mid-burst).

The camera is faked (a synthetic scene that says it is a camera and can be unplugged or made to
block), so the capture thread wraps it in ReconnectingSource as it would a real one.
"""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QEvent, Qt  # noqa: E402
from PySide6.QtGui import QKeyEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from viewfinder import storage  # noqa: E402
from viewfinder.app import make_scorer_or_fallback  # noqa: E402
from viewfinder.camera import SourceError  # noqa: E402
from viewfinder.camera.reconnect import LOST, ReconnectingSource  # noqa: E402
from viewfinder.camera.synthetic import SyntheticSource  # noqa: E402
from viewfinder.config import BufferConfig  # noqa: E402
from viewfinder.frames import Burst, Frame, Score  # noqa: E402
from viewfinder.ui.main_window import LOST_STYLE, MainWindow  # noqa: E402
from viewfinder.ui.scoring_thread import ScoringThread  # noqa: E402
from viewfinder.ui.settings import UiConfig  # noqa: E402

SPEC = "synthetic:2:320x180"
QUICK = BufferConfig(seconds_before=0.3, seconds_after=0.2)  # 6-frame bursts
LONG_AFTER = BufferConfig(seconds_before=0.3, seconds_after=3.0)  # time to cut it short


class FakeCamera:
    """A synthetic scene posing as a camera: `unplugged` makes read/open fail, `blocked` makes
    read hang (as a stuck driver) until `release` is set."""

    is_camera = True
    live = True

    def __init__(self) -> None:
        self.inner = SyntheticSource(seed=2, size=(320, 180))
        self.name, self.fps = "Camera 7", self.inner.fps
        self.unplugged = threading.Event()
        self.blocked = threading.Event()
        self.release = threading.Event()
        self.opens = 0

    def open(self) -> None:
        if self.unplugged.is_set():
            raise SourceError("Camera 7 not found")
        self.inner.open()
        self.opens += 1

    def read(self) -> Frame | None:
        if self.blocked.is_set():
            self.release.wait(30)
        if self.unplugged.is_set():
            raise SourceError("Camera 7 unplugged")
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


def app_threads() -> list[str]:
    return [t.name for t in threading.enumerate()
            if t.name in ("viewfinder-capture", "viewfinder-scoring", "viewfinder-save")]


@pytest.fixture
def make_window(window_factory, tmp_path):
    def make(source=None, *, buffer=QUICK, folder=None, interactive=False, auto_save=True,
             scorer=None, warning=""):
        return window_factory(SPEC, source=source, buffer=buffer, folder=folder,
                              interactive=interactive, auto_save=auto_save, scorer=scorer,
                              ui_config=UiConfig(flash=False), scorer_warning=warning,
                              data_dir=tmp_path / "data")

    return make


def wait_for_frames(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: w.capture is not None
                    and (w.capture.buffered_until_ns or 0) >= 0.9e9, timeout=15000)


# --- camera ----------------------------------------------------------------------------------


def test_camera_unplugged_mid_burst_keeps_the_short_burst_and_reconnects(qtbot, make_window):
    cam = FakeCamera()
    w = make_window(cam, buffer=LONG_AFTER)
    assert isinstance(w.capture.source, ReconnectingSource)
    wait_for_frames(qtbot, w)
    with qtbot.waitSignal(w.photo_saved, timeout=20000) as saved:
        w.press_shutter()
        qtbot.waitUntil(lambda: w.capture.collecting, timeout=5000)
        cam.unplugged.set()
        qtbot.waitUntil(lambda: w._lost != "", timeout=5000)
        assert w.banner.isVisible() and LOST in w.banner.text().lower()
        assert w.banner.styleSheet() == LOST_STYLE and "Camera 7" in w.banner.text()
    side = json.loads(saved.args[0].photo.sidecar.read_text())
    assert side["burst"]["short"] is True
    assert len(side["burst"]["frames"]) < LONG_AFTER.burst_len
    assert "short burst" in w.caption.text()

    ignored = []
    w.press_ignored.connect(ignored.append)
    w.press_shutter()  # nothing to capture while the camera is away: visibly ignored
    assert ignored == ["camera lost"] and w.mode == "live"

    seen = w.capture.buffered_until_ns
    cam.unplugged.clear()  # plugged back in: frames resume without restarting anything
    qtbot.waitUntil(lambda: w._lost == "" and (w.capture.buffered_until_ns or 0) > seen,
                    timeout=15000)
    assert not w.banner.isVisible() and cam.opens >= 2
    with qtbot.waitSignal(w.photo_saved, timeout=20000) as again:
        w.press_shutter()
    assert json.loads(again.args[0].photo.sidecar.read_text())["burst"]["frames"]


def test_closing_while_the_camera_driver_blocks_still_ends_every_thread(qtbot, make_window):
    cam = FakeCamera()
    w = make_window(cam)
    wait_for_frames(qtbot, w)
    cam.blocked.set()  # the driver hangs inside read() from now on
    time.sleep(0.2)
    w.close()
    try:
        assert app_threads() == []
    finally:
        cam.release.set()  # let the abandoned daemon worker finish


def test_no_camera_at_start_still_falls_back_to_the_synthetic_scene(qtbot, make_window):
    cam = FakeCamera()
    cam.unplugged.set()  # cannot be opened at all: the synthetic scene, not endless retries
    w = make_window(cam)
    qtbot.waitUntil(lambda: w.capture.source.name.startswith("Synthetic"), timeout=10000)
    assert w.banner.isVisible() and "synthetic scene" in w.banner.text()


def test_in_demo_mode_a_camera_that_stays_away_gives_way_to_the_synthetic_scene(qtbot,
                                                                                make_window):
    cam = FakeCamera()
    w = make_window(cam)
    w.set_demo(True)
    wait_for_frames(qtbot, w)
    cam.unplugged.set()  # and never comes back: after 3 reopenings (3.5 s of back-off)
    qtbot.waitUntil(lambda: w.capture.source.name.startswith("Synthetic"), timeout=15000)
    assert not w.banner.isVisible() and "Camera 7" in w.status.text()


# --- scorer ----------------------------------------------------------------------------------


class FailingScorer:
    """Brightness, except that it throws on dark frames (level < 50)."""

    name, version, attribute_names = "flaky", "1", ("brightness",)

    def score(self, pixels: np.ndarray) -> Score:
        value = float(pixels.mean())
        if value < 50:
            raise RuntimeError("model exploded on this frame")
        return Score(value, {"brightness": value / 255})


def test_a_scorer_throwing_on_one_frame_leaves_it_unscored_and_ranks_the_rest(qtbot):
    thread = ScoringThread(FailingScorer())
    failed, ranked = [], []
    thread.scorer_failed.connect(failed.append)
    thread.burst_ranked.connect(ranked.append)
    thread.start()
    try:
        levels = [100, 30, 200, 150]
        frames = tuple(Frame(i, i * 10**8, np.full((24, 32, 3), v, np.uint8))
                       for i, v in enumerate(levels))
        thread.submit_burst(Burst(frames, 2, frames[2].t_ns))
        qtbot.waitUntil(lambda: bool(ranked), timeout=5000)
    finally:
        thread.stop()
    review = ranked[0]
    assert review.scores[1] is None and all(review.scores[i] is not None for i in (0, 2, 3))
    assert [f.pos for f in review.ranking.frames] == [2, 3, 0, 1]  # unscored last
    assert len(failed) == 1 and "exploded" in failed[0]


def test_a_failing_scorer_shows_the_badge_and_live_scoring_goes_on(qtbot, make_window):
    class EveryOther(FailingScorer):
        calls = 0

        def score(self, pixels):
            EveryOther.calls += 1
            if EveryOther.calls % 2:
                raise RuntimeError("bad frame")
            return Score(float(pixels.mean()), {"brightness": 0.5})

    w = make_window(scorer=EveryOther())
    qtbot.waitUntil(lambda: w.warning.isVisible(), timeout=10000)
    assert "scorer error" in w.warning.text() and "bad frame" in w.warning.toolTip()
    qtbot.waitUntil(lambda: w.overlay.latest is not None
                    and w.overlay.latest.scored.score is not None, timeout=10000)


def test_a_broken_model_falls_back_to_sharpness_with_a_badge_naming_the_file(qtbot, make_window,
                                                                            tmp_path):
    model = tmp_path / "my_ranker.onnx"
    model.write_bytes(b"\x08\x07truncated")
    scorer, warning = make_scorer_or_fallback(str(model))
    assert scorer.name == "sharpness" and "my_ranker.onnx" in warning
    w = make_window(scorer=scorer, warning=warning)
    assert w.warning.isVisible() and "my_ranker.onnx" in w.warning.text()
    assert "fallback" in w.warning.text() and w.warning.toolTip() == warning


# --- storage ---------------------------------------------------------------------------------


def test_failed_save_offers_retry_and_another_folder_and_keeps_the_burst(qtbot, make_window,
                                                                         tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    elsewhere = tmp_path / "elsewhere" / "nested"
    w = make_window(folder=blocker, interactive=True)
    answers = ["retry", "folder"]  # retry (fails again), then choose another folder
    asked = []

    def ask(error):
        asked.append(error)
        return answers.pop(0)

    w.ask_after_failed_save = ask
    w.ask_folder = lambda: elsewhere
    wait_for_frames(qtbot, w)
    with qtbot.waitSignal(w.photo_saved, timeout=20000) as saved:
        w.press_shutter()
    assert len(asked) == 2 and "not-a-folder" in asked[0]
    result = saved.args[0]
    assert result.photo.path.parent == elsewhere and result.photo.sidecar.is_file()
    assert result.job.burst is w.review.burst  # the same burst, kept in memory throughout
    assert result.job.pos == w.review.ranking.best.pos
    assert w.config.save.folder == elsewhere


# --- people ----------------------------------------------------------------------------------


def auto_repeat(w: MainWindow, key=Qt.Key.Key_Space) -> None:
    QApplication.sendEvent(w, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier,
                                        " ", True))


def test_holding_the_shutter_down_takes_one_burst(qtbot, make_window):
    w = make_window(auto_save=False)
    wait_for_frames(qtbot, w)
    ignored = []
    w.press_ignored.connect(ignored.append)
    with qtbot.waitSignal(w.review_shown, timeout=15000):
        qtbot.keyPress(w, Qt.Key.Key_Space)
        for _ in range(5):  # the key stays down: auto-repeat while the burst is collected
            auto_repeat(w)
    for _ in range(5):  # ... and while its result is shown
        auto_repeat(w)
    assert w.mode == "review" and not ignored
    qtbot.keyRelease(w, Qt.Key.Key_Space)


def test_shutter_during_a_save_starts_the_next_burst_and_both_are_saved(qtbot, make_window,
                                                                        tmp_path, monkeypatch):
    writing = threading.Event()
    real_write = storage.write_bytes

    def slow_write(f, data):  # a slow card: the next press comes while this writes
        writing.set()
        time.sleep(0.3)
        real_write(f, data)

    monkeypatch.setattr(storage, "write_bytes", slow_write)
    w = make_window()
    wait_for_frames(qtbot, w)
    saved = []
    w.photo_saved.connect(saved.append)
    w.press_shutter()
    qtbot.waitUntil(writing.is_set, timeout=15000)
    assert w._saving and w.mode == "review"
    qtbot.keyClick(w, Qt.Key.Key_Space)  # back to live and a new burst, the save goes on
    assert w.mode == "collecting"
    qtbot.waitUntil(lambda: len(saved) == 2, timeout=20000)
    assert saved[0].job.burst is not saved[1].job.burst
    assert len(list((tmp_path / "out").glob("VF_*.jpg"))) == 2


def test_closing_mid_capture_ranks_and_saves_what_was_captured(qtbot, make_window, tmp_path):
    w = make_window(buffer=LONG_AFTER)
    wait_for_frames(qtbot, w)
    w.press_shutter()
    qtbot.waitUntil(lambda: w.capture.collecting, timeout=5000)
    w.close()
    assert app_threads() == []
    (sidecar,) = (tmp_path / "out").glob("VF_*.json")
    side = json.loads(sidecar.read_text())
    assert side["burst"]["short"] is True and (tmp_path / "out" / side["photo"]).is_file()


def test_closing_mid_save_completes_it_and_joins_the_threads(qtbot, make_window, tmp_path,
                                                             monkeypatch):
    writing = threading.Event()
    real_write = storage.write_bytes

    def slow_write(f, data):
        writing.set()
        time.sleep(0.3)
        real_write(f, data)

    monkeypatch.setattr(storage, "write_bytes", slow_write)
    w = make_window()
    wait_for_frames(qtbot, w)
    w.press_shutter()
    qtbot.waitUntil(writing.is_set, timeout=15000)
    w.close()
    assert app_threads() == []
    assert len(list((tmp_path / "out").glob("VF_*.jpg"))) == 1
    assert len(list((tmp_path / "out").glob("VF_*.json"))) == 1


def test_switching_source_mid_burst_ranks_the_short_burst_and_says_so(qtbot, make_window):
    w = make_window(buffer=LONG_AFTER, auto_save=False)
    wait_for_frames(qtbot, w)
    with qtbot.waitSignal(w.review_shown, timeout=20000) as shown:
        w.press_shutter()
        qtbot.waitUntil(lambda: w.capture.collecting, timeout=5000)
        w.switch_source("synthetic:4:320x180", persist=False)
    review = shown.args[0]
    assert review.burst.short and len(review.burst.frames) < LONG_AFTER.burst_len
    assert w.mode == "review" and "short burst" in w.caption.text()
    assert w.capture.source.name == "Synthetic scene (seed 4)"
