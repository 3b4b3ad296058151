"""A FrameSource wrapper that survives a camera being unplugged, stalling or sending garbage.

Stage: camera. `ReconnectingSource(inner)` is itself a FrameSource, driven by the capture thread
(open/read/close from that one thread). Every call into the inner source runs on a daemon worker
thread, so a driver that blocks can be abandoned: `read()` waits in short slices and gives up as
soon as the stop event is set (raising SourceStopped, a SourceError), whatever the inner source
is doing. `status` (plain str, safe to read from any thread) says what is going on.
Once stopped, a wrapper stays stopped: make one per capture thread, sharing its stop event.
Call close() when done (the capture thread does, on its way out): it ends the worker thread.

Faults handled, for live sources (cameras, the synthetic scene):
  - the inner read raises SourceError, returns None (or nothing at all for `stall_s`), or sends
    `max_bad` unusable frames in a row  ->  the camera is lost: `on_lost()` is called once (the
    capture thread cuts a burst in progress short there), status becomes "camera lost,
    reconnecting", and reopening is retried with exponential back-off (capped at `max_delay_s`)
    until it works, the stop event is set, or `max_attempts` failed attempts (then SourceError);
  - empty, wrongly shaped or corrupt frames are skipped and counted in `bad_frames`.
A file or folder (not live) is passed through: None at its end, its SourceError raised.
Frame indices keep counting across reconnects and times never go backwards, so the ring buffer
and the scorer's cache see one continuous stream.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import replace
from typing import Callable

import numpy as np

from viewfinder.camera.base import FrameSource, SourceError, as_bgr
from viewfinder.frames import Frame

LOST = "camera lost, reconnecting"
_POLL_S = 0.05  # how often a waiting read looks at the stop event


class SourceStopped(SourceError):
    """read() or open() gave up because the stop event was set."""


def backoff_delay(attempt: int, first_s: float, max_s: float) -> float:
    """Seconds to wait before reconnect attempt `attempt` (1, 2, ...): first_s doubling, capped."""
    return min(max_s, first_s * 2.0 ** max(0, attempt - 1))


class _Worker:
    """One daemon thread running calls on the inner source, one at a time."""

    def __init__(self, name: str):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.abandoned = False  # set when a caller stopped waiting for it
        self.busy = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], object]) -> queue.SimpleQueue:
        box: queue.SimpleQueue = queue.SimpleQueue()
        self.busy = True
        self._jobs.put((fn, box))
        return box

    def finish(self) -> None:
        """Exit after the current call (if any) returns."""
        self._jobs.put(None)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, box = job
            try:
                box.put((True, fn()))
            except BaseException as exc:  # handed to the caller, never lost in this thread
                box.put((False, exc))
            self.busy = False


class ReconnectingSource:
    """See the module docstring. `factory` (optional) builds a fresh, unopened inner source for a
    reconnect; without it the same inner source is closed and opened again."""

    def __init__(self, inner: FrameSource, *, factory: Callable[[], FrameSource] | None = None,
                 stop: threading.Event | None = None, stall_s: float = 2.0,
                 open_timeout_s: float = 10.0, max_bad: int = 30, first_delay_s: float = 0.5,
                 max_delay_s: float = 5.0, max_attempts: int | None = None,
                 on_status: Callable[[str], None] | None = None,
                 on_lost: Callable[[], None] | None = None):
        self.inner = inner
        self.factory = factory
        self.stop_event = stop if stop is not None else threading.Event()
        self.stall_s = stall_s
        self.open_timeout_s = open_timeout_s
        self.max_bad = max(1, int(max_bad))
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.max_attempts = max_attempts
        self.on_status = on_status
        self.on_lost = on_lost
        self.status = ""  # "" while frames flow; LOST... while reconnecting
        self.bad_frames = 0  # unusable frames skipped (this wrapper's checks)
        self.losses = 0  # times the camera was lost
        self.reconnects = 0  # times it came back
        self._worker: _Worker | None = None
        self._stuck: _Worker | None = None  # abandoned in a call that has not returned yet
        self.last_error = ""
        self._shape: tuple[int, ...] | None = None
        self._next_index = 0
        self._last_t: int | None = None
        self._t_shift = 0
        self._index_shift = 0
        self._new_session = True
        self._bad_in_a_row = 0
        self._opened = False

    # -- FrameSource ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def fps(self) -> float:
        return self.inner.fps

    @property
    def live(self) -> bool:
        return self.inner.live

    @property
    def is_camera(self) -> bool:
        return self.inner.is_camera

    @property
    def lost(self) -> bool:
        return bool(self.status)

    def interrupt(self) -> None:
        """Ask a waiting read()/open() to give up (the capture thread's stop())."""
        self.stop_event.set()

    def open(self) -> None:
        """Open the inner source (raises SourceError, e.g. no camera: no retry on first open)."""
        try:
            self._call(self.inner.open, self.open_timeout_s,
                       f"{self.inner.name}: opening timed out")
        except SourceError:
            self.close()  # ends the worker thread (later, if the driver is stuck in open)
            raise
        self._opened = True
        self._next_index, self._last_t = 0, None  # a new stream, as the inner source starts one
        self._set_status("")
        self._start_session()

    def read(self) -> Frame | None:
        if not self._opened:
            raise SourceError(f"{self.name} is not open")
        while True:
            if self.status:
                self._reconnect()
            try:
                frame = self._call(self.inner.read, self.stall_s if self.live else None,
                                   f"{self.name} stopped sending frames")
            except SourceStopped:
                raise
            except SourceError as exc:
                if not self.live:
                    raise
                self._lose(str(exc))
                continue
            if frame is None:
                if not self.live:
                    return None
                self._bad(f"{self.name} sends no frames")
                continue
            good = self._check(frame)
            if good is None:
                self._bad(f"{self.name} sends only corrupt frames")
                continue
            self._bad_in_a_row = 0
            return good

    def close(self) -> None:
        """Close the inner source. Never waits for a stuck driver: that worker closes it later."""
        self._opened = False
        stuck, self._stuck = self._stuck, None
        worker, self._worker = self._worker, None
        if stuck is not None and stuck.busy:  # still inside a call on this inner source
            self._retire(stuck, self.inner)
            if worker is not None:
                worker.finish()
            return
        if stuck is not None:
            stuck.finish()
        if worker is None:
            self._close_directly(self.inner)
            return
        if worker.busy:  # read() gave up on stop while the driver was still inside read
            self._retire(worker, self.inner)
            return
        box = worker.submit(self.inner.close)
        worker.finish()
        try:
            box.get(timeout=1.0)
        except queue.Empty:
            worker.abandoned = True

    # -- internals ----------------------------------------------------------------------------

    def _set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            if self.on_status is not None:
                self.on_status(text)

    def _call(self, fn: Callable[[], object], timeout: float | None, timeout_msg: str):
        """Run fn on the worker; wait in slices, give up on stop (SourceStopped) or timeout."""
        if self.stop_event.is_set():
            raise SourceStopped(f"{self.name}: stopped")
        if self._worker is None or not self._worker.alive:
            self._worker = _Worker(f"viewfinder-source-{self.inner.name}")
        worker = self._worker
        box = worker.submit(fn)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.stop_event.is_set():
                raise SourceStopped(f"{self.name}: stopped")
            wait = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            try:
                ok, value = box.get(timeout=max(0.0, wait))
                break
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    self._abandon(worker)
                    raise SourceError(timeout_msg) from None
        if not ok:
            if isinstance(value, SourceError):
                raise value
            if isinstance(value, Exception):  # a driver bug is a lost camera, not a crash
                raise SourceError(f"{self.name}: {type(value).__name__}: {value}") from None
            raise value
        return value

    def _abandon(self, worker: _Worker) -> None:
        """Stop waiting for a worker stuck in a call; it stays `_stuck` until that call returns."""
        worker.abandoned = True
        if self._worker is worker:
            self._worker = None
        if self._stuck is not None and self._stuck is not worker:
            self._stuck.finish()
        self._stuck = worker

    @staticmethod
    def _retire(worker: _Worker, source: FrameSource) -> None:
        """The worker closes `source` once its current call returns, then ends."""
        worker.abandoned = True
        worker.submit(source.close)
        worker.finish()

    @staticmethod
    def _close_directly(source: FrameSource) -> None:
        try:
            source.close()
        except Exception:  # closing a lost camera may fail; nothing left to do about it
            pass

    def _check(self, frame: Frame) -> Frame | None:
        """The frame with 3-channel uint8 pixels and the session's shape, renumbered; else None."""
        if not isinstance(frame, Frame):
            return None
        pixels = as_bgr(frame.pixels) if isinstance(frame.pixels, np.ndarray) else None
        if pixels is None or (self._shape is not None and pixels.shape != self._shape):
            return None
        if self._shape is None:
            self._shape = pixels.shape
        if self._new_session:
            self._new_session = False
            self._index_shift = self._next_index - frame.index
            if self._last_t is not None:
                period = round(1e9 / self.fps) if self.fps > 0 else 1
                self._t_shift = max(0, self._last_t + period - frame.t_ns)
        t = frame.t_ns + self._t_shift
        if self._last_t is not None and t <= self._last_t:
            return None  # a time going backwards inside a session: a corrupt frame
        out = replace(frame, index=frame.index + self._index_shift, t_ns=t, pixels=pixels)
        self._next_index = out.index + 1
        self._last_t = t
        return out

    def _bad(self, lost_msg: str) -> None:
        self.bad_frames += 1
        self._bad_in_a_row += 1
        if self._bad_in_a_row >= self.max_bad:
            self._lose(lost_msg)

    def _start_session(self) -> None:
        self._shape = None
        self._new_session = True
        self._t_shift = 0
        self._bad_in_a_row = 0

    def _lose(self, why: str) -> None:
        self.losses += 1
        self.last_error = why.splitlines()[0] if why else "camera lost"
        self._set_status(LOST)
        if self.on_lost is not None:
            self.on_lost()

    def _reconnect(self) -> None:
        """Retry opening with back-off until it works; SourceStopped / SourceError otherwise."""
        attempt = 0
        while True:
            attempt += 1
            if self.max_attempts is not None and attempt > self.max_attempts:
                raise SourceError(f"{self.name} lost and did not come back after "
                                  f"{self.max_attempts} attempts ({self.last_error})")
            if self.stop_event.wait(backoff_delay(attempt, self.first_delay_s, self.max_delay_s)):
                raise SourceStopped(f"{self.name}: stopped")
            stuck = self._release_inner()
            if stuck:
                self._set_status(f"{LOST} (attempt {attempt} failed: {stuck})")
                continue
            try:
                self._call(self.inner.open, self.open_timeout_s,
                           f"{self.name}: reopening timed out")
            except SourceStopped:
                raise
            except SourceError as exc:
                self.last_error = str(exc).splitlines()[0] if str(exc) else "reopen failed"
                self._set_status(f"{LOST} (attempt {attempt} failed)")
                continue
            self.reconnects += 1
            self._start_session()
            self._set_status("")
            return

    def _release_inner(self) -> str:
        """Close the lost inner source so it can be opened again. A reason if it cannot yet."""
        stuck = self._stuck
        if stuck is not None and stuck.busy:
            if self.factory is None:
                return "camera not responding"  # never re-enter a driver still inside a call
            self._stuck = None
            self._retire(stuck, self.inner)  # a fresh source replaces it below
        else:
            if stuck is not None:
                self._stuck = None
                stuck.finish()
            try:
                self._call(self.inner.close, 1.0, f"{self.name}: closing timed out")
            except SourceStopped:
                raise
            except SourceError as exc:
                if self.factory is None:
                    return str(exc).splitlines()[0] if str(exc) else "closing failed"
        if self.factory is not None:
            try:
                self.inner = self.factory()
            except SourceError as exc:
                self.last_error = str(exc).splitlines()[0] if str(exc) else "source failed"
                return self.last_error
        return ""
