"""Switching sources in the running window: a folder plays (and loops), a broken one falls back."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from viewfinder.app import resolve_source  # noqa: E402
from viewfinder.camera import list_cameras, open_source  # noqa: E402
from viewfinder.config import AppConfig, SaveConfig  # noqa: E402
from viewfinder.scoring import make_scorer  # noqa: E402
from viewfinder.ui.main_window import MainWindow  # noqa: E402
from viewfinder.ui.settings import open_settings  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(AppConfig(source="synthetic:0:320x180", save=SaveConfig(folder=tmp_path)),
                   make_scorer("sharpness"), settings=open_settings(tmp_path / "s.ini"),
                   source=open_source("synthetic:0:320x180"), interactive=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def test_image_folder_source_plays_and_loops(qtbot, window, tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 255, (90, 160, 3), np.uint8))
    window.switch_source(str(folder))
    assert window.capture.source.name == "shots" and not window.banner.isVisible()
    # 4 images at the folder's 10 frames/s: indices past 4 mean it looped
    qtbot.waitUntil(lambda: window.overlay.latest is not None
                    and window.overlay.latest.scored.frame_index > 5, timeout=10000)
    assert window.preview.image.width() == 160
    assert window.qsettings.value("source") == str(folder)


def test_a_source_that_fails_falls_back_to_the_synthetic_scene(qtbot, window, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    window.switch_source(str(empty))
    qtbot.waitUntil(lambda: window.capture.source.name.startswith("Synthetic"), timeout=10000)
    assert window.banner.isVisible() and "no images" in window.banner.text()
    assert "synthetic scene" in window.banner.text()


def test_no_camera_starts_on_the_synthetic_scene_and_says_so():
    if list_cameras():
        pytest.skip("this machine has a camera")
    source, notice = resolve_source("auto", explicit=False)
    try:
        assert source.name.startswith("Synthetic") and "No camera found" in notice
    finally:
        source.close()
