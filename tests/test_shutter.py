"""Shutter state machine: live -> collecting -> burst, never a half burst."""
import numpy as np
import pytest

from viewfinder.frames import Frame
from viewfinder.shutter import Shutter, ShutterState


def frames(a, b):
    return [Frame(index=i, t_ns=i * 100_000_000, pixels=np.zeros((2, 2, 3), np.uint8))
            for i in range(a, b)]


def test_full_burst_is_pre_press_and_post_frames():
    sh = Shutter(pre_frames=7, post_frames=3)
    assert sh.state is ShutterState.LIVE
    buf = frames(0, 12)  # more than the shutter needs: it keeps the last 8
    assert sh.press(buf, press_t_ns=buf[-1].t_ns)
    assert sh.state is ShutterState.COLLECTING
    assert sh.progress == (8, 11)
    post = frames(12, 15)
    assert sh.add(post[0]) is None
    assert sh.add(post[1]) is None
    burst = sh.add(post[2])
    assert sh.state is ShutterState.LIVE
    assert [f.index for f in burst.frames] == list(range(4, 15))
    assert burst.shutter_pos == 7 and burst.frames[burst.shutter_pos].index == 11
    assert burst.press_t_ns == 1_100_000_000 and not burst.short


def test_press_while_collecting_is_ignored():
    sh = Shutter(2, 2)
    assert sh.press(frames(0, 3), 200)
    assert not sh.press(frames(10, 13), 999)
    sh.add(frames(3, 4)[0])
    assert not sh.press(frames(10, 13), 999)
    burst = sh.add(frames(4, 5)[0])
    assert [f.index for f in burst.frames] == [0, 1, 2, 3, 4]
    assert burst.press_t_ns == 200
    assert sh.press(frames(5, 8), 700)  # accepted again once live


def test_cut_short_returns_what_it_has():
    sh = Shutter(3, 3)
    assert sh.cut_short() is None  # idle
    sh.press(frames(0, 4), 300)
    sh.add(frames(4, 5)[0])
    burst = sh.cut_short()
    assert burst.short and len(burst.frames) == 5 and burst.shutter_pos == 3
    assert sh.state is ShutterState.LIVE
    assert sh.cut_short() is None
    assert sh.add(frames(5, 6)[0]) is None  # live: frames are not collected


def test_press_right_after_opening_gives_a_short_burst():
    sh = Shutter(7, 3)
    sh.press(frames(0, 2), 100)
    burst = None
    for f in frames(2, 5):
        burst = sh.add(f)
    assert burst.short and burst.shutter_pos == 1 and len(burst.frames) == 5


def test_press_with_an_empty_buffer_uses_the_next_frame():
    sh = Shutter(2, 1)
    sh.press([], 0)
    assert sh.cut_short() is None  # nothing captured: no burst
    sh.press([], 0)
    assert sh.add(frames(0, 1)[0]) is None
    burst = sh.add(frames(1, 2)[0])
    assert burst.shutter_pos == 0 and len(burst.frames) == 2 and burst.short


def test_no_post_frames():
    sh = Shutter(2, 0)
    sh.press(frames(0, 3), 200)
    burst = sh.add(frames(3, 4)[0])
    assert [f.index for f in burst.frames] == [0, 1, 2] and not burst.short


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        Shutter(-1, 3)
