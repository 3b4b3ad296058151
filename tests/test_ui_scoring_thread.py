"""The scoring thread: newest-frame-wins when behind, and burst frames reuse live scores."""
from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from viewfinder.frames import Burst, Frame, Score  # noqa: E402
from viewfinder.ui.scoring_thread import ScoringThread  # noqa: E402


class CountingScorer:
    """Scores a frame by its mean brightness; can be held to simulate a slow model."""

    name, version, attribute_names = "counting", "1", ("brightness",)

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def score(self, pixels: np.ndarray) -> Score:
        self.entered.set()
        self.gate.wait(5)
        value = float(pixels.mean())
        self.calls.append(int(pixels[0, 0, 0]))
        return Score(value, {"brightness": value / 255})


def frame(i: int, level: int) -> Frame:
    return Frame(i, i * 100_000_000, np.full((48, 64, 3), level, np.uint8))


@pytest.fixture
def scoring(qtbot):
    scorer = CountingScorer()
    thread = ScoringThread(scorer)
    thread.start()
    yield thread, scorer
    thread.stop()


def test_when_behind_only_the_newest_frame_is_scored_and_skips_counted(qtbot, scoring):
    thread, scorer = scoring
    got = []
    thread.frame_scored.connect(got.append)
    scorer.gate.clear()
    thread.submit(frame(0, 10))
    assert scorer.entered.wait(5)  # frame 0 is being scored (slowly)
    thread.submit(frame(1, 20))
    thread.submit(frame(2, 30))  # replaces frame 1, which is never scored
    scorer.gate.set()
    qtbot.waitUntil(lambda: len(got) == 2, timeout=5000)
    assert got[-1].scored.frame_index == 2 and got[-1].skipped == 1
    assert scorer.calls == [10, 30]


def test_a_burst_reuses_live_scores_and_scores_the_rest(qtbot, scoring):
    thread, scorer = scoring
    frames = [frame(i, 10 * (i + 1)) for i in range(5)]
    for f in frames[:3]:
        with qtbot.waitSignal(thread.frame_scored, timeout=5000):
            thread.submit(f)
    with qtbot.waitSignal(thread.burst_ranked, timeout=5000) as got:
        thread.submit_burst(Burst(tuple(frames), shutter_pos=2, press_t_ns=frames[2].t_ns))
    review = got.args[0]
    assert review.reused == 3 and sorted(scorer.calls) == [10, 20, 30, 40, 50]
    assert review.ranking.best.pos == 4  # the brightest
    assert len(review.thumbs) == len(review.previews) == 5
