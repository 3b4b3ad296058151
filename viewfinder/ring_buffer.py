"""The pre-shutter buffer: BurstSampler picks frames at the burst rate, RingBuffer keeps the last N.

Stage: camera -> [sampler -> ring buffer] -> scorer / shutter. Pure Python, no Qt. The capture
thread pushes; other threads may call `frames()` (a lock guards the deque). Memory is bounded by
`capacity` frames whatever the resolution: frames are referenced, never copied.
"""
from __future__ import annotations

import threading
from collections import deque

from viewfinder.frames import Frame


class BurstSampler:
    """Keeps frames at `burst_fps` out of a faster stream, by their timestamps.

    A frame is kept when it is the stream frame nearest the next due time (its time plus half the
    last frame interval reaches the due time), so camera jitter does not skip or double a sample.
    The due time advances by one period per kept frame and resyncs after a stall or a restart.
    """

    def __init__(self, burst_fps: float):
        if not burst_fps > 0:
            raise ValueError(f"burst_fps must be > 0, got {burst_fps}")
        self.burst_fps = float(burst_fps)
        self.period_ns = round(1e9 / burst_fps)
        self.reset()

    def reset(self) -> None:
        """Forget the stream (source switched or reopened): the next frame is kept."""
        self._next_due: int | None = None
        self._last_t: int | None = None

    def accept(self, frame: Frame) -> bool:
        t = frame.t_ns
        last, self._last_t = self._last_t, t
        if self._next_due is None or last is None or t < last:
            self._next_due = t + self.period_ns
            return True
        half_dt = (t - last) // 2
        if t + half_dt < self._next_due:
            return False
        self._next_due += self.period_ns
        if self._next_due <= t:  # far behind (a stall): resync instead of a catch-up burst
            self._next_due = t + self.period_ns
        return True


class RingBuffer:
    """Fixed capacity; pushing onto a full buffer drops the oldest frame."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self._frames: deque[Frame] = deque(maxlen=self.capacity)
        self._lock = threading.Lock()

    def push(self, frame: Frame) -> None:
        with self._lock:
            self._frames.append(frame)

    def frames(self) -> list[Frame]:
        """Oldest first; a copy of the list, not of the pixels."""
        with self._lock:
            return list(self._frames)

    def latest(self) -> Frame | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
