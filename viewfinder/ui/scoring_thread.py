"""Scoring thread: scores sampled frames as they arrive and ranks each finished burst.

camera -> CaptureThread -> [ScoringThread] -> MainWindow (overlay, filmstrip).
The capture thread calls `submit` / `submit_burst` (and `prepare_images` with the frames of a
burst being collected, whose review images are then made while waiting for the next frame, so
a ranked burst goes out without resizing); everything else runs on this thread. The
scorer is only ever called here, wrapped in scoring.guarded.GuardedScorer: a frame it throws on
is unscored (ranked last), the rest go on. If scoring falls behind, only the newest frame waits
(older ones are counted as skipped), never a backlog. `set_scorer` swaps the scorer (the
personal ranker switched on or off) between two frames, never in the middle of a burst. Results
leave through Qt signals carrying small frozen dataclasses.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from viewfinder.frames import Burst, Frame, Score, ScoredFrame
from viewfinder.ranking import Ranking, rank
from viewfinder.scoring import Scorer
from viewfinder.scoring.guarded import GuardedScorer
from viewfinder.ui.images import (PREVIEW_LONG_SIDE, THUMB_LONG_SIDE, downscale, long_side_size,
                                  qimage)

_CACHE_SIZE = 128  # scores kept for reuse by the burst; a burst is ~11 sampled frames
_IMAGES_KEPT = 24  # prepared review images (~2 MB each), should a burst never be ranked


@dataclass(frozen=True)
class LiveScore:
    """One live frame's score for the overlay."""

    scored: ScoredFrame
    skipped: int  # frames skipped so far because scoring fell behind


@dataclass(frozen=True, eq=False)
class BurstReview:
    """A ranked burst, ready for the filmstrip. Images are in burst (capture) order."""

    burst: Burst
    ranking: Ranking
    scores: tuple[Score | None, ...]  # by burst position
    previews: tuple[QImage, ...]  # ~960 px long side, unmirrored (what gets saved)
    thumbs: tuple[QImage, ...]
    reused: int  # scores taken from live scoring instead of recomputed
    rank_ms: float  # burst arrival -> ranked, on this thread
    scorer_name: str = ""  # the scorer that ranked it (goes into the sidecar)
    scorer_version: str = ""


class ScoringThread(QObject):
    frame_scored = Signal(object)  # LiveScore
    burst_ranked = Signal(object)  # BurstReview
    scorer_failed = Signal(str)  # first failure of the scorer on a frame (one line)
    scorer_changed = Signal(str)  # name of the scorer now in use, after set_scorer

    def __init__(self, scorer: Scorer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scorer = _guarded(scorer)
        self.last_review: BurstReview | None = None  # the newest ranked burst (read after stop)
        self._next_scorer: GuardedScorer | None = None
        self._finish_bursts = False
        self._cond = threading.Condition()
        self._pending: tuple[Frame, float] | None = None
        self._bursts: list[Burst] = []
        self._stopping = False
        self._skipped = 0
        self._cache: OrderedDict[tuple[int, int], Score | None] = OrderedDict()
        # review images made ahead of the ranking, while a burst is being collected
        self._to_prepare: list[Frame] = []
        self._images: OrderedDict[tuple[int, int], tuple[QImage, QImage]] = OrderedDict()
        self._failed_once = False
        self._thread = threading.Thread(target=self._run, name="viewfinder-scoring")

    # --- called from other threads -------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def submit(self, frame: Frame) -> None:
        """A newly sampled frame; replaces (and counts as skipped) one still waiting."""
        with self._cond:
            if self._pending is not None:
                self._skipped += 1
            self._pending = (frame, time.monotonic())
            self._cond.notify()

    def submit_burst(self, burst: Burst) -> None:
        with self._cond:
            self._bursts.append(burst)
            self._cond.notify()

    def prepare_images(self, frames: list[Frame]) -> None:
        """Frames of a burst being collected: make their review images when otherwise idle, so
        the ranked burst goes out (and gets saved) without waiting for 11 resizes."""
        with self._cond:
            self._to_prepare.extend(frames)
            self._cond.notify()

    def set_scorer(self, scorer: Scorer) -> None:
        """Use `scorer` from the next frame on (cached scores are dropped; a burst being ranked
        finishes with the scorer it started with)."""
        with self._cond:
            self._next_scorer = _guarded(scorer)
            self._cond.notify()

    def reset(self) -> None:
        """Forget cached scores and the skip count (the source changed)."""
        with self._cond:
            self._pending = None
            self._skipped = 0
            self._cache.clear()
            self._to_prepare.clear()
            self._images.clear()

    def stop(self, timeout: float = 1.0, *, finish_bursts: bool = False) -> bool:
        """Set the flag, wake the thread, join. True if it ended within `timeout`.
        `finish_bursts`: rank the bursts already handed in first (closing mid-capture)."""
        with self._cond:
            self._stopping = True
            self._finish_bursts = finish_bursts
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def skipped(self) -> int:
        return self._skipped

    # --- scoring thread ------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while (not self._stopping and self._pending is None and not self._bursts
                       and self._next_scorer is None and not self._to_prepare):
                    self._cond.wait()
                if self._stopping and not (self._finish_bursts and self._bursts):
                    return
                if self._next_scorer is not None:
                    self.scorer, self._next_scorer = self._next_scorer, None
                    self._cache.clear()
                    self._failed_once = False
                    self.scorer_changed.emit(self.scorer.name)
                    continue
                burst = job = prepare = None
                if self._bursts:
                    burst = self._bursts.pop(0)
                elif self._pending is not None:
                    job, self._pending = self._pending, None
                else:
                    prepare = self._to_prepare.pop(0)
            if burst is not None:
                self._rank_burst(burst)
            elif job is not None:
                self._score_live(*job)
            else:
                self._prepare(prepare)

    def _prepare(self, frame: Frame) -> None:
        key = (frame.index, frame.t_ns)
        if key in self._images:
            return
        images = _review_images(frame)
        with self._cond:
            self._images[key] = images
            while len(self._images) > _IMAGES_KEPT:
                self._images.popitem(last=False)

    def _score(self, frame: Frame) -> tuple[Score | None, bool]:
        """(score, reused) for a frame, from the cache when live scoring already did it."""
        key = (frame.index, frame.t_ns)
        with self._cond:
            if key in self._cache:
                return self._cache[key], True
        failures = self.scorer.failures
        score = self.scorer.score(frame.pixels)  # None when the scorer failed on this frame
        if self.scorer.failures != failures and not self._failed_once:
            self._failed_once = True
            self.scorer_failed.emit(self.scorer.last_error.splitlines()[0])
        with self._cond:
            self._cache[key] = score
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return score, False

    def _score_live(self, frame: Frame, t_arrived: float) -> None:
        score, _ = self._score(frame)
        latency = (time.monotonic() - t_arrived) * 1000.0
        self.frame_scored.emit(LiveScore(ScoredFrame(frame.index, frame.t_ns, score, latency),
                                         self._skipped))

    def _rank_burst(self, burst: Burst) -> None:
        t0 = time.monotonic()
        scores: list[Score | None] = []
        reused = 0
        for frame in burst.frames:
            score, was_cached = self._score(frame)
            scores.append(score)
            reused += was_cached
        ranking = rank(burst, scores)
        rank_ms = (time.monotonic() - t0) * 1000.0
        with self._cond:  # prepared ones, and those of older bursts, are not needed again
            ready = [self._images.pop((f.index, f.t_ns), None) for f in burst.frames]
            self._images.clear()
            last = burst.frames[-1].t_ns if burst.frames else 0
            self._to_prepare = [f for f in self._to_prepare if f.t_ns > last]
        images = [r or _review_images(f) for r, f in zip(ready, burst.frames)]
        previews, thumbs = tuple(i[0] for i in images), tuple(i[1] for i in images)
        review = BurstReview(burst, ranking, tuple(scores), previews, thumbs, reused, rank_ms,
                             self.scorer.name, self.scorer.version)
        self.last_review = review
        self.burst_ranked.emit(review)


def _review_images(frame: Frame) -> tuple[QImage, QImage]:
    """(preview, thumbnail) of a burst frame: one resize of the full frame (~1 ms at 1280x720),
    the thumbnail from that preview (an exact 4x shrink from 960 px)."""
    h, w = frame.pixels.shape[:2]
    small = downscale(frame.pixels, long_side_size(w, h, PREVIEW_LONG_SIDE))
    sh, sw = small.shape[:2]
    return qimage(small), qimage(downscale(small, long_side_size(sw, sh, THUMB_LONG_SIDE)))


def _guarded(scorer: Scorer) -> GuardedScorer:
    return scorer if isinstance(scorer, GuardedScorer) else GuardedScorer(scorer)
