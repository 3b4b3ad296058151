"""Fault injection on sources: unplugged, garbage frames, stalled drivers, stop while blocked.

A scripted fake camera drives viewfinder.camera.reconnect.ReconnectingSource; the pipeline
pieces behind it (sampler, ring buffer, shutter, ranking, storage) are the real ones.
"""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from viewfinder.camera import SourceError, SyntheticSource
from viewfinder.camera.reconnect import LOST, ReconnectingSource, SourceStopped, backoff_delay
from viewfinder.frames import Frame
from viewfinder.ranking import rank
from viewfinder.ring_buffer import BurstSampler, RingBuffer
from viewfinder.scoring.guarded import GuardedScorer
from viewfinder.scoring.sharpness import SharpnessScorer
from viewfinder.shutter import Shutter
from viewfinder.storage import save_best

SHAPE = (48, 64, 3)


class FakeCamera:
    """A live source whose reads follow `script` (then good frames forever).

    Actions: frame, unplug (SourceError; the next `unplugged_for` opens fail too), none, empty,
    shape (wrong size), float (wrong dtype), grey (2-D, usable), junk (not a Frame),
    crash (a driver bug), block (waits for `release`).
    """

    live = True
    is_camera = True

    def __init__(self, script=(), *, unplugged_for: int = 0, fps: float = 30.0):
        self.name = "Fake camera"
        self.fps = fps
        self.script = list(script)
        self.unplugged_for = unplugged_for
        self.open_failures = 0
        self.opens = self.closes = 0
        self.is_open = False
        self.i = 0
        self.release = threading.Event()
        self.active = 0  # calls in progress right now; a driver is never entered twice
        self.max_active = 0
        self._lock = threading.Lock()

    def _enter(self):
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def _leave(self):
        with self._lock:
            self.active -= 1

    def open(self):
        self._enter()
        try:
            self.opens += 1
            if self.open_failures > 0:
                self.open_failures -= 1
                raise SourceError("no camera at index 0: check it is plugged in")
            self.is_open, self.i = True, 0
        finally:
            self._leave()

    def close(self):
        self._enter()
        self.closes += 1
        self.is_open = False
        self._leave()

    def read(self):
        self._enter()
        try:
            return self._read()
        finally:
            self._leave()

    def _read(self):
        if not self.is_open:
            raise SourceError(f"{self.name} is not open")
        action = self.script.pop(0) if self.script else "frame"
        if action == "unplug":
            self.is_open = False
            self.open_failures = self.unplugged_for
            raise SourceError(f"{self.name} stopped sending frames (unplugged?)")
        if action == "none":
            return None
        if action == "junk":
            return "not a frame"
        if action == "crash":
            raise ZeroDivisionError("driver bug")
        if action == "block":
            self.release.wait()
        i, self.i = self.i, self.i + 1
        pixels = {"empty": np.zeros((0, 0, 3), np.uint8),
                  "shape": np.zeros((10, 10, 3), np.uint8),
                  "float": np.zeros(SHAPE, np.float32),
                  "grey": np.full(SHAPE[:2], 7, np.uint8)}.get(action)
        if pixels is None:
            rng = np.random.default_rng(i)
            pixels = rng.integers(0, 255, SHAPE, dtype=np.uint8)
        return Frame(index=i, t_ns=round(i * 1e9 / self.fps), pixels=pixels)


def wrap(cam, **kw) -> tuple[ReconnectingSource, list[str]]:
    statuses: list[str] = []
    kw = {"first_delay_s": 0.001, "max_delay_s": 0.01, "on_status": statuses.append, **kw}
    src = ReconnectingSource(cam, **kw)
    src.open()
    return src, statuses


def read_n(src, n):
    return [src.read() for _ in range(n)]


def wait_for(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def source_threads():
    return {t for t in threading.enumerate() if t.name.startswith("viewfinder-source")}


def assert_one_stream(frames):
    """Indices and times only go forward (bad frames leave gaps); pixels are usable."""
    assert all(b.index > a.index for a, b in zip(frames, frames[1:]))
    assert all(b.t_ns > a.t_ns for a, b in zip(frames, frames[1:]))
    assert all(f.pixels.shape == SHAPE and f.pixels.dtype == np.uint8 for f in frames)


def test_backoff_doubles_and_is_capped():
    assert [backoff_delay(a, 0.5, 5.0) for a in range(1, 7)] == [0.5, 1, 2, 4, 5, 5]


def test_unplugged_camera_reconnects_with_visible_status_and_resumes():
    cam = FakeCamera(["frame"] * 5 + ["unplug"], unplugged_for=2)
    src, statuses = wrap(cam)
    frames = read_n(src, 12)
    assert_one_stream(frames)  # indices and times continue across the reconnect
    assert [f.index for f in frames] == list(range(12))
    assert statuses == [LOST, f"{LOST} (attempt 1 failed)", f"{LOST} (attempt 2 failed)", ""]
    assert cam.opens == 4 and src.losses == 1 and src.reconnects == 1 and src.status == ""
    assert "unplugged" in src.last_error or "no camera" in src.last_error
    src.close()
    assert cam.max_active == 1


def test_burst_in_progress_is_cut_short_ranked_and_saved_then_the_next_is_full(tmp_path):
    # 30 fps stream, 10 fps burst, 7 before + press + 3 after. The camera is unplugged two
    # sampled frames after the press; the wrapper's on_lost cuts the burst short.
    press_at = 60  # stream frame
    cam = FakeCamera(["frame"] * (press_at + 4) + ["unplug"], unplugged_for=1)
    shutter = Shutter(7, 3)
    bursts = []

    def on_lost():
        burst = shutter.cut_short()
        if burst is not None:
            bursts.append(burst)

    src, statuses = wrap(cam, on_lost=on_lost)
    sampler, ring = BurstSampler(10.0), RingBuffer(8)
    scorer = GuardedScorer(SharpnessScorer())
    for n in range(200):
        frame = src.read()
        if n in (press_at, 150):
            assert shutter.press(ring.frames(), ring.frames()[-1].t_ns)
        if not sampler.accept(frame):
            continue
        ring.push(frame)
        done = shutter.add(frame)
        if done is not None:
            bursts.append(done)
    assert LOST in statuses and src.reconnects == 1
    short, full = bursts
    assert short.short and 8 <= len(short.frames) < 11
    assert not full.short and len(full.frames) == 11
    scores = [scorer.score(f.pixels) for f in short.frames]
    ranking = rank(short, scores)
    saved = save_best(short.frames[ranking.best.pos], ranking, short, folder=tmp_path,
                      scorer_name=scorer.name, scorer_version=scorer.version)
    side = json.loads(saved.sidecar.read_text())
    assert saved.path.is_file() and side["burst"]["short"] is True
    assert len(side["burst"]["frames"]) == len(short.frames)
    src.close()


def test_empty_wrongly_shaped_and_corrupt_frames_are_skipped_and_counted():
    cam = FakeCamera(["frame", "empty", "shape", "float", "junk", "grey", "frame", "none"])
    src, statuses = wrap(cam)
    frames = read_n(src, 5)
    assert_one_stream(frames)
    assert src.bad_frames == 5  # empty, shape, float, junk, none
    assert frames[1].pixels.shape == SHAPE and (frames[1].pixels == 7).all()  # grey made BGR
    assert statuses == [] and src.losses == 0
    src.close()


@pytest.mark.parametrize("garbage", ["none", "empty", "crash"])
def test_nothing_but_garbage_means_the_camera_is_lost(garbage):
    cam = FakeCamera(["frame"] + [garbage] * 4)
    src, statuses = wrap(cam, max_bad=3)
    frames = read_n(src, 4)
    assert_one_stream(frames)
    assert src.losses >= 1 and src.reconnects >= 1 and statuses[0] == LOST and src.status == ""
    src.close()


def test_a_stalled_driver_is_replaced_by_a_fresh_source():
    cam = FakeCamera(["frame", "block"])
    fresh = []

    def factory():
        fresh.append(FakeCamera())
        return fresh[-1]

    src, statuses = wrap(cam, stall_s=0.5, factory=factory)
    frames = read_n(src, 5)
    assert_one_stream(frames)
    assert statuses == [LOST, ""] and len(fresh) == 1 and src.inner is fresh[0]
    assert cam.closes == 0  # still stuck inside read: nobody touches it meanwhile
    cam.release.set()
    assert wait_for(lambda: cam.closes == 1)  # its worker closes it once the read returns
    src.close()
    assert cam.max_active == 1 and fresh[0].max_active == 1


def test_without_a_factory_a_stuck_driver_is_never_reopened_concurrently():
    cam = FakeCamera(["frame", "block"])
    src, statuses = wrap(cam, stall_s=0.3)
    assert src.read().index == 0
    got = []
    reader = threading.Thread(target=lambda: got.append(src.read()))
    reader.start()
    try:
        assert wait_for(lambda: any("attempt 3" in s for s in statuses))
        assert cam.opens == 1  # it waits for the driver to come back
        assert "not responding" in src.status
    finally:
        cam.release.set()
        reader.join(5)
    assert not reader.is_alive() and got and got[0].pixels.shape == SHAPE
    assert src.status == "" and cam.max_active == 1
    src.close()


def test_stop_interrupts_a_read_that_blocks_forever():
    before = source_threads()
    cam = FakeCamera(["frame", "block"])
    src, _ = wrap(cam, stall_s=600)
    src.read()
    errors = []

    def capture():
        try:
            src.read()
        except SourceError as exc:
            errors.append(exc)
        finally:
            src.close()  # as the capture thread does on its way out

    t = threading.Thread(target=capture)
    t.start()
    assert wait_for(lambda: cam.active == 1)
    src.interrupt()
    t.join(5)
    assert not t.is_alive() and isinstance(errors[0], SourceStopped)
    assert cam.closes == 0  # the driver is still inside read: closed only when it returns
    cam.release.set()
    assert wait_for(lambda: cam.closes == 1)
    assert wait_for(lambda: source_threads() <= before)


def test_stop_interrupts_the_reconnect_back_off_and_a_blocking_open():
    cam = FakeCamera(["unplug"], unplugged_for=10**6)
    stop = threading.Event()
    src, _ = wrap(cam, stop=stop, first_delay_s=600, max_delay_s=600)
    t = threading.Timer(0.2, stop.set)
    t.start()
    with pytest.raises(SourceStopped):
        src.read()  # waiting 600 s before the first retry; the stop ends it
    t.join()
    src.close()

    class BlockingOpen(FakeCamera):
        def open(self):
            self.release.wait()
            super().open()

    cam = BlockingOpen()
    stop = threading.Event()
    src = ReconnectingSource(cam, stop=stop)
    t = threading.Timer(0.2, stop.set)
    t.start()
    with pytest.raises(SourceStopped):
        src.open()
    t.join()
    src.close()
    cam.release.set()


def test_giving_up_after_max_attempts_is_a_clear_error():
    cam = FakeCamera(["unplug"], unplugged_for=10**6)
    src, _ = wrap(cam, max_attempts=3)
    with pytest.raises(SourceError, match=r"Fake camera lost and did not come back after 3"):
        src.read()
    src.close()


def test_first_open_failure_is_reported_not_retried():
    cam = FakeCamera()
    cam.open_failures = 1
    with pytest.raises(SourceError, match="no camera"):
        ReconnectingSource(cam).open()
    assert cam.opens == 1


def test_files_pass_end_and_errors_through(tmp_path):
    scene = SyntheticSource(seed=1, size=(64, 64), length=3)
    scene.live = False  # as a file would be: None at its end, never a reconnect
    src = ReconnectingSource(scene)
    src.open()
    assert [f.index for f in read_n(src, 3)] == [0, 1, 2]
    assert src.read() is None and src.losses == 0
    src.close()
    with pytest.raises(SourceError, match="not open"):
        src.read()


def test_closing_ends_the_worker_thread():
    before = source_threads()
    src, _ = wrap(SyntheticSource(seed=0, size=(64, 64)))
    read_n(src, 3)
    assert source_threads() - before
    src.close()
    assert wait_for(lambda: source_threads() <= before)
    failing = FakeCamera()
    failing.open_failures = 1
    with pytest.raises(SourceError):
        ReconnectingSource(failing).open()
    assert wait_for(lambda: source_threads() <= before)
