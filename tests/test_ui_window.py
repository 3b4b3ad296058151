"""The real window, driven with keys on the synthetic scene (pytest-qt, offscreen)."""
from __future__ import annotations

import json
import threading

import cv2
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from viewfinder.camera import SyntheticSource  # noqa: E402
from viewfinder.config import BufferConfig  # noqa: E402
from viewfinder.ui.main_window import MainWindow  # noqa: E402
from viewfinder.ui.settings import open_settings  # noqa: E402

# Seed 1 at this size has a camera shake at 1.3-1.4 s and another at 2.5 s (scene time): a
# press between 1.2 s and 3.2 s gets a burst with heavily blurred and sharp frames.
SEED, SIZE = 1, (480, 270)
SPEC = f"synthetic:{SEED}:{SIZE[0]}x{SIZE[1]}"
HEAVY_BLUR, SHARP = 2.0, 1.0  # px at this size (truth["blur"])
EXIF_SOFTWARE, EXIF_IFD, EXIF_DATETIME_ORIGINAL = 0x0131, 0x8769, 0x9003


@pytest.fixture
def make_window(window_factory):
    def make(*, folder=None, mirror=True, auto_save=True):
        return window_factory(SPEC, buffer=BufferConfig(), folder=folder, mirror=mirror,
                              auto_save=auto_save)

    return make


def wait_until_scene_time(qtbot, w: MainWindow, seconds: float) -> None:
    qtbot.waitUntil(lambda: (w.capture.buffered_until_ns or 0) >= seconds * 1e9, timeout=15000)


def press_and_wait_for_save(qtbot, w: MainWindow):
    with qtbot.waitSignal(w.photo_saved, timeout=15000) as saved:
        qtbot.keyClick(w, Qt.Key.Key_Space)
        # a second press while the burst is being collected is ignored, visibly
        with qtbot.waitSignal(w.press_ignored, timeout=2000):
            qtbot.keyClick(w, Qt.Key.Key_Space)
        assert "ignored" in w.status.text()
    return saved.args[0]


def test_shutter_saves_the_top_ranked_sharp_frame_unmirrored(qtbot, make_window):
    w = make_window(mirror=True)
    wait_until_scene_time(qtbot, w, 1.7)
    result = press_and_wait_for_save(qtbot, w)

    photo = result.photo
    assert photo.path.is_file() and photo.sidecar.is_file()
    side = json.loads(photo.sidecar.read_text())
    frames = side["burst"]["frames"]
    assert len(frames) == BufferConfig().burst_len and not side["burst"]["short"]
    top = max(frames, key=lambda f: f["score"])
    assert side["chosen"]["frame_index"] == top["frame_index"] == result.job.ranking.best.frame_index
    assert side["scorer"]["name"] == "sharpness"

    exif = Image.open(photo.path).getexif()
    assert "viewfinder" in str(exif.get(EXIF_SOFTWARE, "")).lower()
    assert exif.get_ifd(EXIF_IFD).get(EXIF_DATETIME_ORIGINAL)

    # The saved pixels are that frame, at full resolution and not mirrored (preview was).
    saved = cv2.imread(str(photo.path))
    truth_frame = SyntheticSource(seed=SEED, size=SIZE).render(top["frame_index"])
    assert saved.shape == truth_frame.shape
    diff = np.abs(saved.astype(int) - truth_frame.astype(int)).mean()
    mirrored = np.abs(saved.astype(int) - truth_frame[:, ::-1].astype(int)).mean()
    assert diff < 3.0 < mirrored

    # Blur: the burst holds heavily blurred and sharp frames, and a blurred one did not win.
    truths = [f.truth for f in result.job.burst.frames]
    assert any(t["blur"] >= HEAVY_BLUR for t in truths), [t["blur"] for t in truths]
    assert any(t["blur"] < SHARP for t in truths)
    winner = result.job.burst.frames[result.job.ranking.best.pos]
    assert winner.truth["blur"] < HEAVY_BLUR

    # The filmstrip shows the burst in rank order, best first and marked saved.
    assert w.mode == "review" and w.stack.currentIndex() == 1
    assert w.filmstrip.review.ranking.best.pos == result.job.pos == w.filmstrip.saved_pos
    assert "#1 of 11" in w.caption.text()


def test_pick_another_frame_replaces_the_saved_one_and_esc_returns_live(qtbot, make_window):
    w = make_window()
    wait_until_scene_time(qtbot, w, 1.5)
    first = press_and_wait_for_save(qtbot, w).photo
    qtbot.keyClick(w, Qt.Key.Key_Right)
    assert w.filmstrip.selected == 1
    second_pos = w.chosen_pos()
    with qtbot.waitSignal(w.photo_saved, timeout=10000) as saved:
        qtbot.keyClick(w, Qt.Key.Key_S)
    second = saved.args[0]
    assert second.job.pos == second_pos and second.job.replaces == first
    assert second.photo.path.is_file() and not first.path.exists()
    side = json.loads(second.photo.sidecar.read_text())
    assert side["chosen"]["pos"] == second_pos
    assert first.path.name in json.dumps(side["history"])
    photos = [p for p in second.photo.path.parent.iterdir() if p.suffix == ".jpg"]
    assert photos == [second.photo.path]

    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert w.mode == "live" and w.stack.currentIndex() == 0


def test_keys_toggle_overlay_mirror_and_show_help(qtbot, make_window, tmp_path):
    w = make_window(mirror=False)
    qtbot.waitUntil(lambda: w.overlay.latest is not None, timeout=10000)
    assert w.overlay.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_O)
    assert not w.overlay.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_O)
    assert w.overlay.isVisible()

    qtbot.keyClick(w, Qt.Key.Key_M)
    assert w.mirror and w.capture.mirror
    w.qsettings.sync()
    assert open_settings(tmp_path / "s.ini").value("view/mirror") in (True, "true")

    qtbot.keyClick(w, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    box = w.findChild(QMessageBox, "help")
    assert box is not None and box.isVisible() and "Space" in box.text()
    box.close()

    qtbot.keyClick(w, Qt.Key.Key_F)
    assert w.isFullScreen()
    qtbot.keyClick(w, Qt.Key.Key_F)
    assert not w.isFullScreen()


def test_closing_mid_burst_stops_every_thread(qtbot, make_window):
    w = make_window()
    wait_until_scene_time(qtbot, w, 1.0)
    with qtbot.waitSignal(w.capture.shutter_pressed, timeout=5000):
        qtbot.keyClick(w, Qt.Key.Key_Return)
    threads = [w.scoring._thread, w.capture._thread, w.saver._thread]
    w.close()
    assert not any(t.is_alive() for t in threads)
    assert not [t for t in threading.enumerate() if t.name.startswith("viewfinder-")]


def test_failed_save_is_reported_and_the_burst_kept(qtbot, make_window, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    w = make_window(folder=blocker)
    wait_until_scene_time(qtbot, w, 1.0)
    with qtbot.waitSignal(w.save_failed, timeout=15000) as failed:
        qtbot.keyClick(w, Qt.Key.Key_Space)
    assert failed.args[0].error and failed.args[0].photo is None
    assert w.review is not None and w.mode == "review"  # still in memory, can be saved later
    assert "failed" in w.status.text().lower()
