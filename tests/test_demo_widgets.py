"""The demo's pieces on their own: face boxes on the overlay, the resolution choice, the settings
dialog's new options (pytest-qt, offscreen)."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QColor, QImage  # noqa: E402

from viewfinder.camera import SyntheticSource, open_source  # noqa: E402
from viewfinder.config import AppConfig, BufferConfig, SaveConfig  # noqa: E402
from viewfinder.frames import FaceBox, Score, ScoredFrame  # noqa: E402
from viewfinder.scoring import make_scorer  # noqa: E402
from viewfinder.ui.main_window import MainWindow  # noqa: E402
from viewfinder.ui.overlay_widget import EYES_CLOSED, EYES_OPEN, OverlayWidget  # noqa: E402
from viewfinder.ui.preview_widget import PreviewWidget  # noqa: E402
from viewfinder.ui.resolution_picker import spec_with_size  # noqa: E402
from viewfinder.ui.scoring_thread import LiveScore  # noqa: E402
from viewfinder.ui.settings import (SettingsDialog, UiConfig, load_ui_config,  # noqa: E402
                                    open_settings, store_ui_config)


def near(c: QColor, ref: QColor) -> bool:
    return abs(c.red() - ref.red()) + abs(c.green() - ref.green()) + abs(c.blue() - ref.blue()) < 60


def test_overlay_draws_face_boxes_with_eyes_open_and_closed_markers(qtbot):
    preview = PreviewWidget()
    preview.resize(800, 450)
    preview.set_image(QImage(1600, 900, QImage.Format.Format_RGB888))  # fills it exactly
    overlay = OverlayWidget()
    qtbot.addWidget(overlay)
    overlay.resize(800, 450)
    overlay.set_frame_view(preview, mirror=False)
    faces = (FaceBox(0.40, 0.30, 0.10, 0.20, eyes_open=0.9),
             FaceBox(0.70, 0.50, 0.10, 0.20, eyes_open=0.1))
    overlay.add_score(LiveScore(ScoredFrame(0, 0, Score(1.0, {}, ("eyes closed",), faces)), 0))

    r = overlay.face_rect(faces[0])
    assert (round(r.x()), round(r.y()), round(r.width()), round(r.height())) == (320, 135, 80, 90)
    overlay.set_frame_view(preview, mirror=True)  # the boxes follow a mirrored preview
    assert round(overlay.face_rect(faces[0]).x()) == 800 - 320 - 80
    overlay.set_frame_view(preview, mirror=False)

    image = overlay.grab().toImage()
    open_edge = image.pixelColor(QPoint(round(r.x()), round(r.center().y())))
    r2 = overlay.face_rect(faces[1])
    closed_edge = image.pixelColor(QPoint(round(r2.right()), round(r2.center().y())))
    assert near(open_edge, EYES_OPEN) and near(closed_edge, EYES_CLOSED)


def test_spec_with_size_for_each_kind_of_source(tmp_path):
    assert spec_with_size(SyntheticSource(seed=4), (640, 360)) == "synthetic:4:640x360"
    assert spec_with_size(open_source("camera:2"), (1920, 1080)) == "camera:2:1920x1080"
    assert open_source("camera:2:1920x1080").size == (1920, 1080)
    (tmp_path / "a.png").write_bytes(b"")
    assert spec_with_size(open_source(str(tmp_path)), (640, 360)) is None


def test_choosing_a_resolution_reopens_the_source_and_shows_the_real_one(qtbot, tmp_path):
    spec = "synthetic:3:320x180"
    w = MainWindow(AppConfig(source=spec, save=SaveConfig(folder=tmp_path)),
                   make_scorer("sharpness"), settings=open_settings(tmp_path / "s.ini"),
                   source=open_source(spec), interactive=False)
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.resolution.actual == (320, 180), timeout=10000)
        assert w.resolution.text().startswith("320×180")
        w.resolution.resolution_chosen.emit(spec_with_size(w.capture.source, (480, 270)))
        qtbot.waitUntil(lambda: w.resolution.actual == (480, 270), timeout=10000)
        assert w.capture.source.size == (480, 270) and w.config.source == "synthetic:3:480x270"
        # the new stream settles before it fills the ring buffer (first frames dropped)
        assert w.capture.buffer_config.settle_seconds > 0
    finally:
        w.close()


def test_settings_dialog_edits_countdown_flash_mirror_and_keep(qtbot, tmp_path):
    qs = open_settings(tmp_path / "s.ini")
    dlg = SettingsDialog(BufferConfig(), SaveConfig(folder=tmp_path), ui=UiConfig(), mirror=False)
    qtbot.addWidget(dlg)
    dlg.countdown.setValue(5)
    dlg.flash.setChecked(False)
    dlg.mirror.setChecked(True)
    dlg.keep.setCurrentIndex(1)
    dlg.demo_result.setValue(12)
    ui, mirror = dlg.ui_values()
    assert (ui.countdown_s, ui.flash, ui.keep_whole_burst, ui.demo_result_s, mirror) == \
        (5, False, True, 12, True)
    store_ui_config(qs, ui)
    qs.sync()
    assert load_ui_config(open_settings(tmp_path / "s.ini")) == ui
    bad = tmp_path / "bad.ini"
    bad.write_text("[capture]\ncountdown=99\nflash=maybe\n[demo]\nwall_size=x\n")
    loaded = load_ui_config(open_settings(bad))
    assert loaded.countdown_s == 0 and loaded.wall_size == UiConfig().wall_size
