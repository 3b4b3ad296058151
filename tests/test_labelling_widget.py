"""The labelling screen: keys 1-5 label the pair shown, U/Backspace undo, progress, next burst."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from viewfinder.frames import Burst, Frame, Score
from viewfinder.labels import LabelStore
from viewfinder.ui.labelling_widget import LabellingWidget

TRUTH = [3.0, 9.0, 1.0, 7.0, 5.0]  # the user's taste; the app predicted by position instead


def keep(store, k):
    frames = tuple(Frame(i, k * 10**10 + i * 10**8, np.full((36, 48, 3), 40 * i, np.uint8))
                   for i in range(len(TRUTH)))
    scores = [Score(float(i)) for i in range(len(TRUTH))]
    return store.add_burst(Burst(frames, 2, k * 10**10), scores, scorer_name="x", scorer_version="1",
                           source="Synthetic")


@pytest.fixture
def store(tmp_path):
    s = LabelStore(tmp_path)
    yield s
    s.close()


def key_for(widget):
    """The key a user with TRUTH's taste presses for the pair on screen."""
    left, right = (widget.burst.frames[i].pos for i in widget.pair)
    d = TRUTH[left] - TRUTH[right]
    return 1 if d > 3 else 2 if d > 0 else 4 if d > -3 else 5


def test_keys_label_every_burst_until_done(qtbot, store):
    uids = [keep(store, 0), keep(store, 1)]
    w = LabellingWidget(store)
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    assert w.start()
    assert w.title.text().startswith("Burst 1 of 2")
    assert "comparisons left in this burst" in w.progress.text()
    assert w.left.image is not None and w.right.image is not None
    finished, bursts_done = [], []
    w.finished.connect(lambda: finished.append(True))
    w.burst_finished.connect(bursts_done.append)
    presses = 0
    while w.pair is not None:
        assert w.progress.text().startswith(f"{w.remaining} comparison")
        assert 1 <= w.remaining <= 2 * len(TRUTH) - len(store.labels(w.burst.uid))
        qtbot.keyClick(w, {1: Qt.Key.Key_1, 2: Qt.Key.Key_2, 4: Qt.Key.Key_4,
                           5: Qt.Key.Key_5}[key_for(w)])
        presses += 1
        assert presses < 40
    assert bursts_done == uids and finished == [True]
    assert w.title.text() == "All bursts labelled"
    labels = store.labels()
    assert len(labels) == presses <= 2 * 2 * len(TRUTH)
    for lab in labels:  # written as "a at least as good as b" with the right strength
        assert TRUTH[lab.a] > TRUTH[lab.b]
        assert lab.label == (2 if TRUTH[lab.a] - TRUTH[lab.b] > 3 else 1)
    fresh = LabellingWidget(store)  # next session: nothing left to label
    qtbot.addWidget(fresh)
    assert not fresh.start()
    assert fresh.title.text() == "Nothing to label" and not fresh.buttons[3].isEnabled()


def test_undo_goes_back_one_answer_even_across_bursts(qtbot, store):
    keep(store, 0)
    w = LabellingWidget(store)
    qtbot.addWidget(w)
    w.start()
    first = (w.pair, w.remaining)
    qtbot.keyClick(w, Qt.Key.Key_3)  # equal
    assert [lab.label for lab in store.labels()] == [0]
    assert w.pair != first[0]
    qtbot.keyClick(w, Qt.Key.Key_U)
    assert store.labels() == [] and (w.pair, w.remaining) == first
    while w.pair is not None:
        w.choose(key_for(w))
    n = len(store.labels())
    qtbot.keyClick(w, Qt.Key.Key_Backspace)  # from the "done" screen back into the burst
    assert len(store.labels()) == n - 1 and w.pair is not None
    assert w.buttons[1].isEnabled()


def test_a_burst_half_labelled_resumes_where_it_stopped(qtbot, store):
    uid = keep(store, 0)
    w = LabellingWidget(store)
    qtbot.addWidget(w)
    w.start()
    w.choose(key_for(w))
    w.choose(key_for(w))
    pair = [w.burst.frames[i].pos for i in w.pair]
    w2 = LabellingWidget(store)
    qtbot.addWidget(w2)
    assert w2.start([uid])
    assert [w2.burst.frames[i].pos for i in w2.pair] == pair
