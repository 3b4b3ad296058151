"""One test per keyboard shortcut of the window (pytest-qt, offscreen, synthetic scene)."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from viewfinder.camera import open_source  # noqa: E402
from viewfinder.config import AppConfig, BufferConfig, SaveConfig  # noqa: E402
from viewfinder.scoring import make_scorer  # noqa: E402
from viewfinder.ui.main_window import SHORTCUTS, MainWindow  # noqa: E402
from viewfinder.ui.settings import UiConfig, open_settings  # noqa: E402

SIZE = (320, 180)
SPEC = f"synthetic:1:{SIZE[0]}x{SIZE[1]}"


@pytest.fixture
def window(qtbot, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    config = AppConfig(source=SPEC, buffer=BufferConfig(seconds_before=0.3, seconds_after=0.2),
                       save=SaveConfig(folder=out, auto_save=False), mirror=False)
    w = MainWindow(config, make_scorer("sharpness"), settings=open_settings(tmp_path / "s.ini"),
                   source=open_source(SPEC), interactive=False, ui_config=UiConfig(flash=False))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: (w.capture.buffered_until_ns or 0) >= 0.9e9, timeout=10000)
    yield w
    w.close()


@pytest.fixture
def review(qtbot, window):
    """The window showing a ranked burst (nothing saved: auto-save is off)."""
    with qtbot.waitSignal(window.review_shown, timeout=15000):
        window.press_shutter()
    return window


def test_space_takes_a_burst(qtbot, window):
    with qtbot.waitSignal(window.review_shown, timeout=15000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.mode == "review" and window.review is not None


def test_enter_takes_a_burst_in_live_view_and_saves_in_the_filmstrip(qtbot, window):
    with qtbot.waitSignal(window.review_shown, timeout=15000):
        qtbot.keyClick(window, Qt.Key.Key_Return)
    with qtbot.waitSignal(window.photo_saved, timeout=10000) as saved:
        qtbot.keyClick(window, Qt.Key.Key_Enter)
    assert saved.args[0].job.pos == window.review.ranking.best.pos


def test_s_saves_the_chosen_frame(qtbot, review):
    with qtbot.waitSignal(review.photo_saved, timeout=10000) as saved:
        qtbot.keyClick(review, Qt.Key.Key_S)
    assert saved.args[0].photo.path.is_file()


def test_arrows_move_through_the_filmstrip(qtbot, review):
    n = len(review.review.ranking.frames)
    qtbot.keyClick(review, Qt.Key.Key_Right)
    qtbot.keyClick(review, Qt.Key.Key_Right)
    assert review.filmstrip.selected == 2 and review.chosen_pos() == \
        review.review.ranking.frames[2].pos
    assert review.caption.text().startswith(f"#3 of {n}")
    qtbot.keyClick(review, Qt.Key.Key_Left)
    assert review.filmstrip.selected == 1
    for _ in range(n + 2):
        qtbot.keyClick(review, Qt.Key.Key_Right)
    assert review.filmstrip.selected == n - 1  # stops at the end


def test_ctrl_c_copies_the_chosen_frame_at_full_resolution(qtbot, review):
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    qtbot.keyClick(review, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    image = clipboard.image()
    assert (image.width(), image.height()) == SIZE
    assert "Copied" in review.status.text()


def test_esc_returns_to_live_and_leaves_fullscreen(qtbot, review):
    review.showFullScreen()
    qtbot.keyClick(review, Qt.Key.Key_Escape)
    assert review.mode == "live" and review.stack.currentIndex() == 0
    assert review.isFullScreen()  # the first Esc only left the filmstrip
    qtbot.keyClick(review, Qt.Key.Key_Escape)
    assert not review.isFullScreen()


def test_f_toggles_fullscreen(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_F)
    assert window.isFullScreen()
    qtbot.keyClick(window, Qt.Key.Key_F)
    assert not window.isFullScreen()


def test_m_toggles_the_mirror(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.mirror and window.capture.mirror and window.overlay.mirror
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert not window.mirror and not window.capture.mirror


def test_o_toggles_the_overlay(qtbot, window):
    assert window.overlay.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert not window.overlay.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert window.overlay.isVisible()


def test_question_mark_lists_every_shortcut(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_Question, Qt.KeyboardModifier.ShiftModifier)
    box = window.findChild(QMessageBox, "help")
    assert box is not None and box.isVisible()
    assert all(keys in box.text() for keys, _ in SHORTCUTS)
    box.close()


def test_d_toggles_demo_mode(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert window.demo and window.isFullScreen() and window.instructions.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert not window.demo and not window.isFullScreen() and not window.instructions.isVisible()


def test_w_shows_the_wall_and_del_clears_it(qtbot, review):
    with qtbot.waitSignal(review.photo_saved, timeout=10000):
        qtbot.keyClick(review, Qt.Key.Key_S)
    qtbot.keyClick(review, Qt.Key.Key_W)
    assert review.mode == "wall" and len(review.wall.photos) == 1
    qtbot.keyClick(review, Qt.Key.Key_Backspace)
    assert review.wall.photos == []
    qtbot.keyClick(review, Qt.Key.Key_W)
    assert review.mode == "live"
