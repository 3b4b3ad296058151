"""Pre-shutter ring buffer and burst sampler."""
import gc
import random
import weakref

import numpy as np
import pytest

from viewfinder.frames import Frame
from viewfinder.ring_buffer import BurstSampler, RingBuffer


def frame(i, t_ns=None, shape=(4, 4, 3)):
    return Frame(index=i, t_ns=i * 33_333_333 if t_ns is None else t_ns,
                 pixels=np.zeros(shape, np.uint8))


def test_wraps_around_keeping_the_newest_oldest_first():
    rb = RingBuffer(3)
    assert len(rb) == 0 and rb.frames() == [] and rb.latest() is None
    for i in range(5):
        rb.push(frame(i))
    assert len(rb) == 3
    assert [f.index for f in rb.frames()] == [2, 3, 4]
    assert rb.latest().index == 4
    rb.push(frame(5))
    assert [f.index for f in rb.frames()] == [3, 4, 5]


def test_frames_is_a_snapshot_sharing_pixels():
    rb = RingBuffer(2)
    f = frame(0)
    rb.push(f)
    snap = rb.frames()
    rb.push(frame(1))
    rb.push(frame(2))
    assert [x.index for x in snap] == [0] and snap[0].pixels is f.pixels
    rb.clear()
    assert len(rb) == 0 and rb.frames() == []


def test_memory_is_bounded_by_capacity_whatever_the_resolution():
    rb = RingBuffer(4)
    refs = []
    for i in range(50):
        f = frame(i, shape=(1080, 1920, 3))
        refs.append(weakref.ref(f))
        rb.push(f)
    del f
    gc.collect()
    assert sum(r() is not None for r in refs) == 4


def test_bad_capacity_is_refused():
    with pytest.raises(ValueError):
        RingBuffer(0)
    with pytest.raises(ValueError):
        BurstSampler(0)


def _accepted(sampler, times):
    return [t for i, t in enumerate(times) if sampler.accept(frame(i, t))]


def test_samples_10_fps_out_of_30_fps():
    times = [round(i * 1e9 / 30) for i in range(90)]  # 3 s
    kept = _accepted(BurstSampler(10), times)
    assert len(kept) == 30
    assert all(abs((b - a) - 100e6) < 1e6 for a, b in zip(kept, kept[1:], strict=False))


def test_jittery_stream_still_gives_the_burst_rate():
    rnd = random.Random(0)
    times = [round(i * 1e9 / 30 + rnd.uniform(-6e6, 6e6)) for i in range(300)]  # 10 s
    kept = _accepted(BurstSampler(10), times)
    assert 98 <= len(kept) <= 101
    gaps = np.diff(kept)
    assert gaps.min() > 50e6 and gaps.max() < 150e6


def test_25_fps_stream_averages_10_fps():
    times = [i * 40_000_000 for i in range(250)]  # 10 s
    kept = _accepted(BurstSampler(10), times)
    assert 99 <= len(kept) <= 101


def test_burst_rate_above_the_stream_rate_keeps_every_frame():
    times = [round(i * 1e9 / 15) for i in range(30)]
    assert len(_accepted(BurstSampler(30), times)) == 30


def test_a_stall_resyncs_without_a_catch_up_burst():
    times = [round(i * 1e9 / 30) for i in range(30)]
    times += [times[-1] + 2_000_000_000 + round(i * 1e9 / 30) for i in range(30)]
    kept = _accepted(BurstSampler(10), times)
    gaps = np.diff(kept)
    assert gaps.min() > 90e6  # never two frames close together after the gap
    assert len(kept) == 20


def test_time_going_backwards_restarts_the_sampler():
    s = BurstSampler(10)
    assert s.accept(frame(0, 5_000_000_000))
    assert not s.accept(frame(1, 5_033_000_000))
    assert s.accept(frame(0, 0))  # source reopened: its clock starts again
    s.reset()
    assert s.accept(frame(1, 10))
