"""Capture thread: reads the source, keeps the pre-shutter ring buffer and runs the shutter.

[camera] -> CaptureThread -> RingBuffer / Shutter -> ScoringThread.
Owns the FrameSource (opens it unless already open, closes it when stopped), paces
non-camera sources to real time, drops the first `settle_seconds` of a live source while
exposure settles, samples frames at `burst_fps` into the ring buffer and hands each sampled
frame to the scoring thread. The GUI asks for a shutter press with `request_shutter()`;
the answer and the preview come back by signal. Pixel arrays never leave for the GUI: the
preview is a downscaled QImage made here.

Cameras are wrapped in camera.reconnect.ReconnectingSource, driven by this thread's stop flag:
a camera unplugged mid-stream is reopened with back-off while `source_status` tells the window
("camera lost, reconnecting"), a burst in progress is cut short and still ranked, and `stop()`
returns promptly even when the driver blocks in a read.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from viewfinder.camera import FrameSource, SourceError
from viewfinder.camera.reconnect import ReconnectingSource
from viewfinder.config import BufferConfig
from viewfinder.frames import Frame
from viewfinder.ring_buffer import BurstSampler, RingBuffer
from viewfinder.shutter import Shutter, ShutterState
from viewfinder.ui.images import PREVIEW_LONG_SIDE, fit_size, to_qimage
from viewfinder.ui.scoring_thread import ScoringThread

_MAX_LAG_S = 0.25  # further behind real time than this: stop trying to catch up


@dataclass(frozen=True)
class PressResult:
    accepted: bool
    reason: str = ""  # why it was ignored, shown to the user
    pre_frames: int = 0
    press_t_ns: int | None = None  # source time of the frame at the press


@dataclass(frozen=True)
class Preview:
    image: QImage | None  # downscaled, mirrored if asked; None while the live view is hidden
    frame_index: int
    t_ns: int
    size: tuple[int, int]  # full camera resolution (w, h)
    settling: bool


class CaptureThread(QObject):
    preview_ready = Signal()  # newest preview waiting in take_preview()
    shutter_pressed = Signal(object)  # PressResult
    burst_captured = Signal(int, bool)  # frames in the burst, short
    source_failed = Signal(str)  # one-line SourceError message; the thread has ended
    source_status = Signal(str)  # "" while frames flow, else e.g. "camera lost, reconnecting"

    def __init__(self, source: FrameSource, buffer: BufferConfig, scoring: ScoringThread, *,
                 already_open: bool = False, mirror: bool = False,
                 reconnect: bool | None = None,
                 factory: Callable[[], FrameSource] | None = None,
                 max_attempts: int | None = None,
                 parent: QObject | None = None) -> None:
        """`reconnect` (default: for cameras) wraps the source in a ReconnectingSource;
        `factory` builds a fresh source for a reconnect (else the same one is reopened);
        `max_attempts` failed reopenings end the thread with `source_failed` (None: never)."""
        super().__init__(parent)
        self._stop = threading.Event()
        if reconnect is None:
            reconnect = source.is_camera
        if reconnect:
            source = ReconnectingSource(_OpenedOnce(source) if already_open else source,
                                        factory=factory, stop=self._stop,
                                        max_attempts=max_attempts,
                                        on_status=self.source_status.emit, on_lost=self._on_lost)
            already_open = False  # the wrapper's open() is a no-op on the opened source
        self.source = source
        self.buffer_config = buffer
        self.mirror = mirror  # read by the thread for each preview
        self.previews_wanted = True  # False while the live view is hidden: no image is made
        self._scoring = scoring
        self._already_open = already_open
        self._ring = RingBuffer(buffer.pre_frames + 1)  # + the frame at the press
        self._shutter = Shutter(buffer.pre_frames, buffer.post_frames)
        self._wake = threading.Event()
        self._press_requested = False
        self._lock = threading.Lock()
        self._preview: Preview | None = None
        self._box = (PREVIEW_LONG_SIDE, PREVIEW_LONG_SIDE)  # the preview fits in this (w, h)
        self._preview_pending = False
        self._last_t_ns: int | None = None
        self._thread = threading.Thread(target=self._run, name="viewfinder-capture")

    # --- called from the GUI thread ------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def request_shutter(self) -> None:
        with self._lock:
            self._press_requested = True
        self._wake.set()

    def set_preview_box(self, w: int, h: int) -> None:
        """Make previews that fit in w x h pixels (the live view's size: painted unscaled)."""
        self._box = (max(1, w), max(1, h))

    def take_preview(self) -> Preview | None:
        with self._lock:
            self._preview_pending = False
            return self._preview

    @property
    def buffered_until_ns(self) -> int | None:
        """Source time of the newest frame in the ring buffer (None while settling)."""
        return self._last_t_ns

    @property
    def collecting(self) -> bool:
        return self._shutter.state is ShutterState.COLLECTING

    @property
    def lost(self) -> str:
        """The reconnecting camera's status ("" while frames flow or for other sources)."""
        return getattr(self.source, "status", "") if isinstance(self.source,
                                                                 ReconnectingSource) else ""

    def set_max_attempts(self, attempts: int | None) -> None:
        """Reconnect attempts before giving up (demo mode falls back to the synthetic scene)."""
        if isinstance(self.source, ReconnectingSource):
            self.source.max_attempts = attempts

    def stop(self, timeout: float = 1.0) -> bool:
        """Set the flag, wake the thread, join; the thread closes the source on its way out."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- capture thread ------------------------------------------------------------------
    def _run(self) -> None:
        try:
            if not self._already_open:
                self.source.open()
            self._loop()
        except SourceError as exc:
            self._cut_short()
            if not self._stop.is_set():
                self.source_failed.emit(str(exc).splitlines()[0] if str(exc) else "source failed")
        finally:
            self.source.close()

    def _loop(self) -> None:
        sampler = BurstSampler(self.buffer_config.burst_fps)
        settle_ns = round(self.buffer_config.settle_seconds * 1e9) if self.source.live else 0
        t0_ns: int | None = None  # first frame's t_ns, in source time
        wall0 = 0.0  # monotonic time the first frame was shown
        index_offset = t_offset = 0  # files and folders loop; keep index and time increasing
        last: Frame | None = None
        while not self._stop.is_set():
            frame = self.source.read()
            if frame is None:  # end of a file or folder: play it again
                if last is None:
                    raise SourceError(f"{self.source.name}: no frames")
                index_offset, t_offset = last.index + 1, last.t_ns + round(1e9 / self.source.fps)
                self.source.close()
                self.source.open()
                continue
            if index_offset or t_offset:
                frame = replace(frame, index=frame.index + index_offset, t_ns=frame.t_ns + t_offset)
            last = frame
            if t0_ns is None:
                t0_ns, wall0 = frame.t_ns, time.monotonic()
            wall0 = self._pace(wall0, (frame.t_ns - t0_ns) / 1e9)
            if self._stop.is_set():
                break
            settling = frame.t_ns - t0_ns < settle_ns
            self._publish_preview(frame, settling)
            if settling or not sampler.accept(frame):
                continue
            self._ring.push(frame)
            self._last_t_ns = frame.t_ns
            self._scoring.submit(frame)
            if self._shutter.state is ShutterState.COLLECTING:
                burst = self._shutter.add(frame)
                if burst is not None:  # announced first: the ranking may come back at once
                    self.burst_captured.emit(len(burst.frames), burst.short)
                    self._scoring.submit_burst(burst)
                else:
                    self._scoring.prepare_images([frame])
        self._cut_short()

    def _pace(self, wall0: float, offset_s: float) -> float:
        """Wait until the frame's time comes (answering shutter requests meanwhile).

        Cameras deliver in real time already, so this waits only for synthetic and file
        sources. Returns the (possibly re-based) wall time of the first frame.
        """
        while True:
            self._handle_press()
            remaining = wall0 + offset_s - time.monotonic()
            if remaining <= 0:
                return wall0 - remaining - _MAX_LAG_S if remaining < -_MAX_LAG_S else wall0
            self._wake.wait(remaining)
            self._wake.clear()
            if self._stop.is_set():
                return wall0

    def _handle_press(self) -> None:
        with self._lock:
            if not self._press_requested:
                return
            self._press_requested = False
        if self._shutter.state is ShutterState.COLLECTING:
            result = PressResult(False, "burst in progress: press ignored")
        elif len(self._ring) == 0:
            result = PressResult(False, "camera still settling: press ignored")
        else:
            pre = self._ring.frames()
            accepted = self._shutter.press(pre, pre[-1].t_ns)
            if accepted:
                self._scoring.prepare_images(pre)
            result = PressResult(accepted, "" if accepted else "burst in progress: press ignored",
                                 len(pre), pre[-1].t_ns)
        self.shutter_pressed.emit(result)

    def _publish_preview(self, frame: Frame, settling: bool) -> None:
        h, w = frame.pixels.shape[:2]
        image = (to_qimage(frame.pixels, size=fit_size(w, h, *self._box), mirror=self.mirror)
                 if self.previews_wanted else None)
        with self._lock:
            self._preview = Preview(image, frame.index, frame.t_ns, frame.size, settling)
            send = not self._preview_pending
            self._preview_pending = True
        if send:
            self.preview_ready.emit()

    def _on_lost(self) -> None:
        """The camera went away (called inside source.read, on this thread): keep the burst
        in progress; frames from before the loss are not buffered into the next one."""
        self._cut_short()
        self._ring.clear()

    def _cut_short(self) -> None:
        """Source lost or stopping mid-burst: rank what we have rather than lose the moment."""
        if self._shutter.state is ShutterState.COLLECTING:
            burst = self._shutter.cut_short()
            if burst is not None and burst.frames:
                self.burst_captured.emit(len(burst.frames), True)
                self._scoring.submit_burst(burst)


class _OpenedOnce:
    """A source the app already opened (to check it works): the first open() is a no-op, so
    ReconnectingSource can take it over; a reconnect opens it for real."""

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self._skip_open = True
        self.name, self.fps, self.live, self.is_camera = (inner.name, inner.fps, inner.live,
                                                          inner.is_camera)

    def open(self) -> None:
        if self._skip_open:
            self._skip_open = False
            return
        self.inner.open()

    def read(self) -> Frame | None:
        return self.inner.read()

    def close(self) -> None:
        self._skip_open = False
        self.inner.close()
