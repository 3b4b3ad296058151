"""The soak through the real window (offscreen): repeated presses on the synthetic scene, each one
saved exactly once; closing mid-save completes the save and joins every thread.

Driven only through MainWindow's public methods and signals. Real time (the capture thread paces
the scene), so CI does a few presses; `--runslow` does 40.
"""
from __future__ import annotations

import json
import threading
import time

import pytest

pytest.importorskip("pytestqt")

from viewfinder import storage  # noqa: E402
from viewfinder.config import BufferConfig  # noqa: E402
from viewfinder.ui.main_window import MainWindow  # noqa: E402

SPEC = "synthetic:3:320x180"


@pytest.fixture
def window(window_factory):
    return lambda: window_factory(SPEC)


def app_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("viewfinder")}


def press_until_saved(qtbot, w: MainWindow):
    """Press (retrying while the camera settles) and return the SaveResult."""
    ignored = []
    w.press_ignored.connect(ignored.append)
    with qtbot.waitSignal(w.photo_saved, timeout=20000) as saved:
        qtbot.waitUntil(lambda: w.capture.buffered_until_ns is not None, timeout=10000)
        w.press_shutter()
        # pressing again while the burst is collected, ranked or saved never adds a photo
        for _ in range(3):
            qtbot.wait(30)
            if w.mode in ("collecting", "ranking"):
                w.press_shutter()
    w.press_ignored.disconnect(ignored.append)
    return saved.args[0]


def check_folder(folder, results):
    photos = sorted(folder.glob("VF_*.jpg"))
    sidecars = sorted(folder.glob("VF_*.json"))
    assert len(photos) == len(sidecars) == len(results)
    assert {r.photo.path for r in results} == set(photos)
    for r in results:
        side = json.loads(r.photo.sidecar.read_text())
        assert side["photo"] == r.photo.path.name
        assert side["chosen"]["frame_index"] in {f["frame_index"] for f in side["burst"]["frames"]}
    assert not list(folder.glob(".VF_*"))


def soak(qtbot, window, tmp_path, presses: int):
    before = app_threads()
    w = window()
    results = [press_until_saved(qtbot, w) for _ in range(presses)]
    check_folder(tmp_path / "out", results)
    w.close()
    qtbot.waitUntil(lambda: app_threads() <= before, timeout=5000)


def test_window_soak_every_press_saved_once(qtbot, window, tmp_path):
    soak(qtbot, window, tmp_path, presses=3)


@pytest.mark.slow
def test_window_soak_long(qtbot, window, tmp_path):
    soak(qtbot, window, tmp_path, presses=40)


def test_closing_mid_save_completes_the_save_and_joins_every_thread(qtbot, window, tmp_path,
                                                                   monkeypatch):
    before = app_threads()
    writing = threading.Event()

    def slow_write(f, data):  # a slow USB stick: the window is closed while this runs
        writing.set()
        time.sleep(0.25)
        f.write(data)

    monkeypatch.setattr(storage, "write_bytes", slow_write)
    w = window()
    qtbot.waitUntil(lambda: w.capture.buffered_until_ns is not None, timeout=10000)
    w.press_shutter()
    qtbot.waitUntil(writing.is_set, timeout=20000)
    w.close()
    qtbot.waitUntil(lambda: app_threads() <= before, timeout=5000)
    folder = tmp_path / "out"
    assert len(list(folder.glob("VF_*.jpg"))) == 1 and len(list(folder.glob("VF_*.json"))) == 1
    assert not list(folder.glob(".VF_*"))


def test_switching_the_source_mid_burst_keeps_the_short_burst(qtbot, window, tmp_path):
    w = window()
    qtbot.waitUntil(lambda: w.capture.buffered_until_ns is not None, timeout=10000)
    with qtbot.waitSignal(w.photo_saved, timeout=20000) as saved:
        w.press_shutter()
        qtbot.waitUntil(lambda: w.capture.collecting, timeout=5000)
        w.switch_source("synthetic:4:320x180", persist=False)
    side = json.loads(saved.args[0].photo.sidecar.read_text())
    assert side["burst"]["short"] is True
    assert len(side["burst"]["frames"]) < BufferConfig().burst_len
