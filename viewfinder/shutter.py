"""The shutter state machine: LIVE -> (press) COLLECTING post-frames -> Burst -> LIVE.

Stage: ring buffer -> [shutter] -> ranking. Pure Python, no Qt; driven from the capture thread
(the UI only requests a press). A press while collecting is ignored, so there is never a half
burst or two bursts interleaved.
"""
from __future__ import annotations

from enum import Enum

from viewfinder.frames import Burst, Frame


class ShutterState(Enum):
    LIVE = "live"
    COLLECTING = "collecting"


class Shutter:
    def __init__(self, pre_frames: int, post_frames: int):
        if pre_frames < 0 or post_frames < 0:
            raise ValueError(f"frame counts must be >= 0, got {pre_frames}, {post_frames}")
        self.pre_frames = int(pre_frames)
        self.post_frames = int(post_frames)
        self.state = ShutterState.LIVE
        self._frames: list[Frame] = []
        self._shutter_pos = 0
        self._press_t_ns = 0
        self._wanted = 0  # frames still to collect after the press

    @property
    def burst_len(self) -> int:
        return self.pre_frames + 1 + self.post_frames

    @property
    def progress(self) -> tuple[int, int]:
        """(frames held, frames in a full burst), for a progress indicator."""
        return len(self._frames), self.burst_len

    def press(self, pre: list[Frame], press_t_ns: int) -> bool:
        """Start a burst. `pre` is the ring buffer, oldest first; its last frame is the frame at
        the press. With an empty buffer the next frame added becomes the press frame.
        Returns False (and changes nothing) when a burst is already being collected."""
        if self.state is ShutterState.COLLECTING:
            return False
        kept = list(pre[-(self.pre_frames + 1):])
        self._frames = kept
        self._press_t_ns = int(press_t_ns)
        self._shutter_pos = len(kept) - 1 if kept else 0
        # post_frames == 0: the burst is handed out on the next add(), without that frame
        self._wanted = self.post_frames + (0 if kept else 1)
        self.state = ShutterState.COLLECTING
        return True

    def add(self, frame: Frame) -> Burst | None:
        """Feed a sampled frame. Returns the finished Burst (state back to LIVE), else None."""
        if self.state is not ShutterState.COLLECTING:
            return None
        if self._wanted > 0:
            self._frames.append(frame)
            self._wanted -= 1
            if self._wanted > 0:
                return None
        return self._finish(short=len(self._frames) < self.burst_len)

    def cut_short(self) -> Burst | None:
        """End the burst now with what it has (camera lost, source switched): short=True.
        None when idle or when no frame was captured yet."""
        if self.state is not ShutterState.COLLECTING:
            return None
        if not self._frames:
            self._reset()
            return None
        return self._finish(short=True)

    def _finish(self, short: bool) -> Burst:
        burst = Burst(frames=tuple(self._frames), shutter_pos=self._shutter_pos,
                      press_t_ns=self._press_t_ns, short=short)
        self._reset()
        return burst

    def _reset(self) -> None:
        self._frames = []
        self._wanted = 0
        self.state = ShutterState.LIVE
