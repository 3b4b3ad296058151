"""Labelling and the personal ranker inside the real window (pytest-qt, offscreen).

The labelling screen opens with `L` on bursts the window kept itself; a key stores a label.
Personalising runs off the GUI thread on a prepared label store whose user, unlike the shipped
ranker, likes faces turned away: the window shows the measured before/after, the ranker badge
changes to the personal ranker, the scoring thread scores with it, and switching back works.
"""
from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402

from viewfinder.config import BufferConfig  # noqa: E402
from viewfinder.frames import Burst, Frame, Score  # noqa: E402
from viewfinder.labels import LabelStore  # noqa: E402
from viewfinder.personalize import FUSED_INPUTS, active_ranker, shipped_ranker  # noqa: E402
from viewfinder.scoring import make_scorer  # noqa: E402
from viewfinder.ui.settings import UiConfig  # noqa: E402

SPEC = "synthetic:1:320x180"
QUICK = BufferConfig(seconds_before=0.3, seconds_after=0.2)  # 6-frame bursts


@pytest.fixture
def make_window(window_factory, tmp_path):
    def make(scorer=None, *, keep=False):
        return window_factory(SPEC, buffer=QUICK, scorer=scorer, data_dir=tmp_path / "data",
                              ui_config=UiConfig(flash=False, keep_whole_burst=keep))

    return make


def test_the_labelling_screen_opens_on_kept_bursts_and_a_key_stores_a_label(qtbot, make_window,
                                                                           tmp_path):
    w = make_window(keep=True)
    qtbot.waitUntil(lambda: (w.capture.buffered_until_ns or 0) >= 0.9e9, timeout=15000)
    with qtbot.waitSignal(w.photo_saved, timeout=15000) as saved:
        qtbot.keyClick(w, Qt.Key.Key_Space)
    uid = saved.args[0].kept_burst
    assert uid

    qtbot.keyClick(w, Qt.Key.Key_L)
    assert w.mode == "label" and w.stack.currentIndex() == 3 and w.labeller.isVisible()
    assert w.labeller.burst.uid == uid and w.labeller.pair is not None
    before = w.labeller.remaining
    assert f"{before} comparisons left in this burst" in w.labeller.progress.text()
    assert "1 burst to go" in w.status.text()

    qtbot.keyClick(w, Qt.Key.Key_1)  # left significantly better
    with LabelStore(tmp_path / "data") as store:
        (label,) = store.labels(uid, kind="compare")
    assert label.label == 2
    assert w.labeller.remaining < before or w.labeller.pair is None

    qtbot.keyClick(w, Qt.Key.Key_U)  # undo
    with LabelStore(tmp_path / "data") as store:
        assert store.labels(uid, kind="compare") == []
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert w.mode == "live" and w.stack.currentIndex() == 0


def test_labelling_without_kept_bursts_says_how_to_get_them(qtbot, make_window):
    w = make_window()
    qtbot.keyClick(w, Qt.Key.Key_L)
    assert w.mode == "live" and "Keep: the whole burst" in w.status.text()


# --- the personal ranker ---------------------------------------------------------------------


def prepared_store(data_dir, n_bursts=12, n_frames=6, seed=0):
    """Bursts kept with the fused scorer's attributes, labelled by a user who likes faces turned
    away (low `frontal`) whatever the eyes do; the shipped weights favour open eyes and frontal
    faces."""
    base = shipped_ranker()
    features = base.features if base is not None else FUSED_INPUTS
    mean = base.mean if base is not None else np.full(len(features), 0.5)
    scale = base.scale if base is not None else np.full(len(features), 0.1)
    rng = np.random.default_rng(seed)
    with LabelStore(data_dir) as store:
        for k in range(n_bursts):
            z = rng.normal(size=(n_frames, len(features)))
            frames = tuple(Frame(i, k * 10**10 + i * 10**8,
                                 np.full((36, 48, 3), 30 * i, np.uint8)) for i in range(n_frames))
            scores = [Score(float(i), {f: float(mean[j] + scale[j] * z[i, j])
                                       for j, f in enumerate(features)})
                      for i in range(n_frames)]
            uid = store.add_burst(Burst(frames, 1, frames[1].t_ns), scores, scorer_name="fused",
                                  scorer_version="test", source="Camera 0",
                                  now=datetime(2026, 3, 1, 9, k))
            taste = -z[:, features.index("frontal")]
            for a in range(n_frames):
                for b in range(a + 1, n_frames):
                    d = taste[a] - taste[b]
                    better, worse = (a, b) if d > 0 else (b, a)
                    store.add_label(uid, better, worse, 2 if abs(d) > 1 else 1)
    return n_bursts


def test_personalise_in_the_window_shows_the_measurement_and_switching_back_works(
        qtbot, make_window, tmp_path):
    prepared_store(tmp_path / "data")
    w = make_window(make_scorer("default"))
    assert w.ranker_text == "Ranker: shipped" and w.overlay.ranker == "shipped ranker"
    qtbot.keyClick(w, Qt.Key.Key_L)
    assert w.mode == "label" and w.labeller.pair is None  # all labelled already
    assert "All kept bursts labelled" in w.status.text()

    with qtbot.waitSignal(w.ranker_changed, timeout=20000) as done:
        qtbot.keyClick(w, Qt.Key.Key_P)
    result = done.args[0]
    assert result.personal is not None and result.personal.activated, result.message
    assert result.personal.after["pairwise"] > result.personal.before["pairwise"]
    shown = w.personal_result.text()
    assert w.personal_result.isVisible() and "held-out bursts" in shown
    assert f"pairwise {result.personal.after['pairwise']:.2f}" in shown
    assert "Switched to the personal ranker" in shown
    n = result.personal.label_count
    assert w.overlay.ranker.startswith(f"personal ranker · {n} labels · ")
    assert w.label_ranker.text().startswith("Ranker: personal ranker (")
    assert f"{n} labels" in w.label_ranker.text()
    qtbot.waitUntil(lambda: w.scoring.scorer.name == "personal", timeout=10000)
    assert w.overlay.scorer_name == "personal" and active_ranker(tmp_path / "data").personal

    # a burst taken now is ranked by the personal ranker, and its sidecar says so
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: (w.capture.buffered_until_ns or 0) >= 0.9e9, timeout=15000)
    with qtbot.waitSignal(w.photo_saved, timeout=15000) as saved:
        w.press_shutter()
    side = json.loads(saved.args[0].photo.sidecar.read_text())
    assert side["scorer"]["name"] == "personal"

    with qtbot.waitSignal(w.ranker_changed, timeout=20000) as back:
        w.switch_button.click()
    assert back.args[0].info is not None and not back.args[0].info.personal
    assert w.overlay.ranker == "shipped ranker"
    assert w.label_ranker.text() == "Ranker: shipped (personal available)"
    qtbot.waitUntil(lambda: w.scoring.scorer.name == "fused", timeout=10000)
    assert not active_ranker(tmp_path / "data").personal
    assert w.switch_button.text() == "Use the personal ranker"


def test_personalise_with_too_few_labels_refuses_and_says_why(qtbot, make_window, tmp_path):
    prepared_store(tmp_path / "data", n_bursts=1, n_frames=3)
    w = make_window()
    qtbot.keyClick(w, Qt.Key.Key_L)
    with qtbot.waitSignal(w.ranker_changed, timeout=20000) as done:
        w.personalise()
    result = done.args[0]
    assert result.scorer is None and "too few labels" in result.error
    assert "too few labels" in w.personal_result.text()
    assert w.scoring.scorer.name == "sharpness" and w.ranker_text == "Scorer: sharpness"
    assert not (tmp_path / "data" / "personal_ranker.json").exists()


def test_the_app_starts_on_the_personal_ranker_when_it_is_on_and_survives_a_broken_file(
        qtbot, tmp_path, capsys):
    from viewfinder.app import make_app_scorer
    from viewfinder.labels import LabelStore as Store
    from viewfinder.personalize import personalize

    data = tmp_path / "data"
    prepared_store(data)
    with Store(data) as store:
        assert personalize(store).activated
    scorer, warning = make_app_scorer("default", data)
    assert scorer.name == "personal" and warning == ""
    assert make_app_scorer("sharpness", data)[0].name == "sharpness"  # --scorer wins

    (data / "personal_ranker.json").write_text("{not json")
    scorer, warning = make_app_scorer("default", data)
    assert scorer.name == "fused" and "personal_ranker.json" in warning
    assert "personal ranker unavailable" in capsys.readouterr().err
