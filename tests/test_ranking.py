"""Ranking a burst: best first, ties to the frame nearest the shutter, unscored last."""
import numpy as np
import pytest

from viewfinder.frames import Burst, Frame, Score
from viewfinder.ranking import rank


def burst(n=5, shutter_pos=2):
    fs = tuple(Frame(index=10 + i, t_ns=i * 100, pixels=np.zeros((2, 2, 3), np.uint8))
               for i in range(n))
    return Burst(frames=fs, shutter_pos=shutter_pos, press_t_ns=shutter_pos * 100)


def S(v):
    return Score(value=v)


def test_higher_score_ranks_first():
    r = rank(burst(), [S(1), S(5), S(3), S(2), S(4)])
    assert [rf.pos for rf in r.frames] == [1, 4, 2, 3, 0]
    assert [rf.rank for rf in r.frames] == [1, 2, 3, 4, 5]
    assert r.best.pos == 1 and r.best.frame_index == 11 and r.best.t_ns == 100
    assert r.at_pos(4).rank == 2
    assert [rf.pos for rf in r.by_pos()] == [0, 1, 2, 3, 4]


def test_ties_go_to_the_frame_nearest_the_shutter():
    r = rank(burst(shutter_pos=2), [S(7), S(7), S(1), S(7), S(7)])
    # 1 and 3 are both one frame from the shutter: the earlier one (people press late)
    assert [rf.pos for rf in r.frames] == [1, 3, 0, 4, 2]


def test_unscored_frames_rank_last():
    r = rank(burst(), [None, S(-3), Score(value=float("nan")), S(-9), None])
    assert [rf.pos for rf in r.frames[:2]] == [1, 3]
    assert {rf.pos for rf in r.frames[2:]} == {0, 2, 4}
    assert r.frames[2].pos == 2  # the shutter frame first among the unscored
    assert all(rf.score is None for rf in r.frames[2:])


def test_all_unscored_picks_the_shutter_frame():
    assert rank(burst(), [None] * 5).best.pos == 2


def test_mismatched_scores_are_refused():
    with pytest.raises(ValueError):
        rank(burst(), [S(1)] * 4)
    with pytest.raises(ValueError):
        rank(Burst(frames=(), shutter_pos=0, press_t_ns=0), [])
