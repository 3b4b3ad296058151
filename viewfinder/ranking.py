"""Ranking a burst: burst + per-frame scores -> frames in rank order, best first.

Stage: shutter -> [ranking] -> filmstrip / storage. Pure; any thread.
Higher score wins; equal scores go to the frame nearer the shutter press (then the earlier one,
since people press late); unscored frames (None or NaN) rank after every scored one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from viewfinder.frames import Burst, Score


@dataclass(frozen=True)
class RankedFrame:
    pos: int  # position in the burst (capture order)
    frame_index: int
    t_ns: int
    score: Score | None
    rank: int  # 1 = best


@dataclass(frozen=True)
class Ranking:
    frames: tuple[RankedFrame, ...]  # rank order, best first; unscored last

    @property
    def best(self) -> RankedFrame:
        return self.frames[0]

    def at_pos(self, pos: int) -> RankedFrame:
        """The ranked entry of the frame at burst position `pos`."""
        for rf in self.frames:
            if rf.pos == pos:
                return rf
        raise KeyError(f"no frame at burst position {pos}")

    def by_pos(self) -> tuple[RankedFrame, ...]:
        """The same entries in capture order."""
        return tuple(sorted(self.frames, key=lambda rf: rf.pos))


def _scored(score: Score | None) -> bool:
    return score is not None and math.isfinite(score.value)


def rank(burst: Burst, scores: Sequence[Score | None]) -> Ranking:
    if len(scores) != len(burst.frames):
        raise ValueError(f"{len(scores)} scores for a burst of {len(burst.frames)} frames")
    if not burst.frames:
        raise ValueError("cannot rank an empty burst")

    def key(pos: int):
        s = scores[pos]
        dist = abs(pos - burst.shutter_pos)
        if _scored(s):
            return (0, -s.value, dist, pos)
        return (1, 0.0, dist, pos)

    order = sorted(range(len(burst.frames)), key=key)
    return Ranking(frames=tuple(
        RankedFrame(pos=p, frame_index=burst.frames[p].index, t_ns=burst.frames[p].t_ns,
                    score=scores[p] if _scored(scores[p]) else None, rank=r)
        for r, p in enumerate(order, start=1)))
