"""Demo mode end to end on the synthetic scene (pytest-qt, offscreen): countdown -> flash ->
burst -> result screen with both scores -> back to live; Esc cancels the countdown; the wall
of kept photos and its clear key; a missing camera never stops the demo."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from viewfinder.config import BufferConfig  # noqa: E402
from viewfinder.labels import LabelStore  # noqa: E402
from viewfinder.ui.main_window import MainWindow  # noqa: E402
from viewfinder.ui.settings import UiConfig  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SPEC = "synthetic:1:480x270"
SHORT = BufferConfig(seconds_before=0.3, seconds_after=0.2)  # 6-frame bursts: quick tests


@pytest.fixture
def make_window(window_factory, tmp_path):
    def make(ui: UiConfig, *, demo: bool = True, buffer: BufferConfig = SHORT):
        # AppConfig's default mirror (None: decided by the source), as the app starts
        return window_factory(SPEC, buffer=buffer, mirror=None, show=not demo, interactive=True,
                              demo=demo, ui_config=ui, data_dir=tmp_path / "data")

    return make


def wait_for_frames(qtbot, w: MainWindow) -> None:
    """Until the ring buffer holds the seconds before a press (scene time 0.5 s settle + 0.3 s)."""
    qtbot.waitUntil(lambda: (w.capture.buffered_until_ns or 0) >= 0.9e9, timeout=10000)


def score_text(score) -> str:
    return f"{score.value:.2f}" if score is not None else "unscored"


def test_demo_flow_countdown_flash_burst_result_and_back_to_live(qtbot, make_window):
    w = make_window(UiConfig(demo_countdown_s=2, demo_result_s=1.0))
    assert w.isFullScreen() and w.demo and w.demo_action.isChecked()
    assert w.instructions.isVisible() and "Space" in w.instructions.text()
    assert w.overlay.scale > 1 and not w.resolution.isVisible()
    wait_for_frames(qtbot, w)

    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.mode == "countdown" and w.countdown.isVisible() and w.countdown.remaining == 2
    assert "Esc" in w.instructions.text()
    qtbot.keyClick(w, Qt.Key.Key_Space)  # a second press does not restart or skip it
    assert w.mode == "countdown" and w.capture.collecting is False

    with qtbot.waitSignal(w.review_shown, timeout=15000) as shown:
        with qtbot.waitSignal(w.capture.shutter_pressed, timeout=8000) as pressed:
            pass
        assert pressed.args[0].accepted
        qtbot.waitUntil(lambda: w.flash.flashes == 1, timeout=2000)
        assert not w.countdown.isVisible()
    review = shown.args[0]

    # The result screen: the kept frame large, the shutter instant beside it, both scored.
    assert w.mode == "review" and w.stack.currentIndex() == 1 and w.instant.isVisible()
    best = review.ranking.best
    assert w.big.caption == f"What we kept: {score_text(best.score)}"
    instant = review.scores[review.burst.shutter_pos]
    assert w.instant.image is review.previews[review.burst.shutter_pos]
    if review.burst.shutter_pos == best.pos:
        assert "already the best" in w.instant.caption
    else:
        assert w.instant.caption.startswith(f"What you would have got: {score_text(instant)}")
        assert instant is None or all(r in w.instant.caption for r in instant.reasons)
        assert instant is None or best.score.value >= instant.value
    assert w.filmstrip.width() >= w.width() - 20  # full width

    qtbot.waitUntil(lambda: w.last_kept is not None, timeout=10000)
    assert w.wall.photos[0].path.is_file() and w.last_kept_button.isVisible()
    # ... and back to live by itself after the configured time.
    qtbot.waitUntil(lambda: w.mode == "live", timeout=10000)
    assert w.stack.currentIndex() == 0 and "Space" in w.instructions.text()


def test_esc_cancels_the_countdown(qtbot, make_window):
    w = make_window(UiConfig(demo_countdown_s=3))
    wait_for_frames(qtbot, w)
    qtbot.keyClick(w, Qt.Key.Key_Return)
    assert w.mode == "countdown" and w.countdown.running
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert w.mode == "live" and not w.countdown.running and not w.countdown.isVisible()
    assert "cancelled" in w.status.text().lower()
    assert w.isFullScreen()  # Esc cancelled the countdown, it did not leave the demo
    assert not w.capture.collecting and w.flash.flashes == 0


def test_wall_of_kept_photos_replaces_choices_and_clears(qtbot, make_window, tmp_path):
    w = make_window(UiConfig(countdown_s=0, flash=False), demo=False)
    wait_for_frames(qtbot, w)
    saved = []
    for _ in range(2):
        with qtbot.waitSignal(w.photo_saved, timeout=15000) as s:
            qtbot.keyClick(w, Qt.Key.Key_Space)
        saved.append(s.args[0].photo.path)
    assert [p.path for p in w.wall.photos] == saved[::-1]  # newest first
    assert w.flash.flashes == 0  # flash off in the settings

    # Choosing another frame of the last burst replaces its photo on the wall.
    qtbot.keyClick(w, Qt.Key.Key_Right)
    with qtbot.waitSignal(w.photo_saved, timeout=10000) as s:
        qtbot.keyClick(w, Qt.Key.Key_S)
    assert [p.path for p in w.wall.photos] == [s.args[0].photo.path, saved[0]]

    qtbot.keyClick(w, Qt.Key.Key_Delete)  # not on the wall: nothing happens
    assert len(w.wall.photos) == 2
    qtbot.keyClick(w, Qt.Key.Key_W)
    assert w.mode == "wall" and w.stack.currentIndex() == 2
    qtbot.keyClick(w, Qt.Key.Key_Delete)
    assert w.wall.photos == [] and not w.last_kept_button.isVisible()
    assert s.args[0].photo.path.is_file() and saved[0].is_file()  # only the wall was cleared
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert w.mode == "live" and w.stack.currentIndex() == 0


def test_keep_whole_burst_stores_every_frame_for_labelling(qtbot, make_window, tmp_path):
    w = make_window(UiConfig(keep_whole_burst=True, flash=False), demo=False)
    wait_for_frames(qtbot, w)
    with qtbot.waitSignal(w.photo_saved, timeout=15000) as s:
        qtbot.keyClick(w, Qt.Key.Key_Space)
    result = s.args[0]
    assert result.kept_burst and not result.keep_error
    qtbot.keyClick(w, Qt.Key.Key_Right)  # the user prefers another frame: a "choice" label
    with qtbot.waitSignal(w.photo_saved, timeout=10000) as s2:
        qtbot.keyClick(w, Qt.Key.Key_S)
    assert s2.args[0].kept_burst == result.kept_burst
    w.close()
    with LabelStore(tmp_path / "data") as store:
        (burst,) = store.bursts()
        assert len(burst.frames) == len(result.job.burst.frames) == SHORT.burst_len
        assert burst.pick_pos == result.job.ranking.best.pos
        (label,) = store.labels(burst.uid, kind="choice")
        assert (label.a, label.b) == (s2.args[0].job.pos, burst.pick_pos)


def test_a_lost_source_in_demo_mode_falls_back_without_banner_or_dialog(qtbot, make_window,
                                                                        tmp_path):
    w = make_window(UiConfig())
    empty = tmp_path / "empty"
    empty.mkdir()
    w.switch_source(str(empty))
    qtbot.waitUntil(lambda: w.capture.source.name.startswith("Synthetic"), timeout=10000)
    assert not w.banner.isVisible() and "no images" in w.status.text()
    assert not [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    qtbot.keyClick(w, Qt.Key.Key_D)  # leaving demo mode shows the notice again
    assert not w.demo and w.banner.isVisible() and not w.isFullScreen()


def test_demo_without_a_camera_runs_on_the_synthetic_scene(tmp_path):
    """`--demo --source camera:9`: no such camera, yet the demo runs and takes its photo."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               VIEWFINDER_SETTINGS=str(tmp_path / "settings.ini"))
    r = subprocess.run([sys.executable, str(REPO / "main.py"), "--demo", "--source", "camera:9",
                        "--countdown", "1", "--shutter-after", "0.6", "--quit-after-save",
                        "--output", str(tmp_path / "out")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.splitlines()[0]).is_file() and "Traceback" not in r.stderr
