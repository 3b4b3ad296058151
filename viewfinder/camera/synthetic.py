"""The synthetic scene: a procedurally drawn face that blinks, turns its head and moves with
real motion blur over a textured background. Deterministic from a seed; knows its ground truth.

Stage: camera (a FrameSource). It is what the app falls back to without a camera and what the
tests drive the pipeline with. Called from the capture thread only; `truth_at` and `render` are
pure and may be called from any thread.

The timeline is cut into 2-second segments. Each segment draws its own events from
`default_rng([seed, segment])`, so the state of any frame is computed in O(1) without rendering:
  - one blink (eyes closed for 3 stream frames),
  - in each half segment: nothing, a camera shake (whole frame blurred along one axis) or a quick
    head movement (only the head blurred, in the direction it moves),
  - sometimes a head turn (features shift sideways, the face narrows).
Blur length is the distance the face travels in the image during the exposure (one frame time).
"""
from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from viewfinder.camera.base import SourceError
from viewfinder.frames import Frame

SEGMENT_S = 2.0
BLINK_FRAMES = 3
EXPOSURE = 1.0  # exposure time in frame periods (indoor webcams expose for about a whole frame)
GOOD_MAX_BLUR = 3.0  # px at 720p; scaled with the frame height
GOOD_MAX_TURN = 0.25

# BGR tones, chosen per seed
_SKINS = [(150, 180, 228), (125, 160, 210), (105, 140, 190), (80, 110, 160), (60, 85, 130)]
_HAIRS = [(25, 30, 40), (20, 40, 70), (15, 15, 20), (40, 70, 110)]
_IRISES = [(60, 80, 110), (40, 60, 90), (120, 100, 60), (60, 110, 80)]
_SHIRTS = [(140, 80, 40), (60, 60, 160), (80, 120, 60), (90, 90, 90), (150, 150, 40)]


@lru_cache(maxsize=128)
def _segment_plan(seed: int, k: int, seg: int) -> dict:
    """Events of segment k (frame offsets inside the segment)."""
    rng = np.random.default_rng([seed, k & 0xFFFFFFFFFFFF])  # k < 0 only at index 0 - 0.5
    half = seg // 2
    plan = {"blink": int(rng.integers(4, seg - BLINK_FRAMES - 3)), "motions": [], "turn": None}
    for h in range(2):
        kind = rng.choice(["none", "shake", "move"], p=[0.3, 0.45, 0.25])
        dur = int(rng.integers(max(4, seg // 7), max(5, seg // 4) + 1))
        dur = min(dur, half - 1)
        start = h * half + int(rng.integers(0, half - dur))
        if kind == "shake":
            axis = 0 if rng.random() < 0.7 else 1
            plan["motions"].append(("shake", start, dur, float(rng.uniform(5, 13)), axis,
                                    float(rng.choice([1.5, 2.0, 2.5]))))
        elif kind == "move":
            angle = float(rng.uniform(0, 2 * math.pi))
            plan["motions"].append(("move", start, dur, float(rng.uniform(30, 70)), angle, 0.0))
    if rng.random() < 0.4:
        dur = int(rng.integers(seg // 4, seg // 2))
        plan["turn"] = (int(rng.integers(0, seg - dur)), dur, float(rng.uniform(0.45, 1.0)),
                        float(rng.choice([-1.0, 1.0])))
    return plan


def _motion_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised line kernel: what a point becomes when it moves `length` px during exposure."""
    size = int(math.ceil(length)) | 1
    k = np.zeros((size, size), np.float32)
    c = size / 2 - 0.5
    dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
    sh = 4  # sub-pixel precision of the line end points
    p0 = (round((c - dx) * 16), round((c - dy) * 16))
    p1 = (round((c + dx) * 16), round((c + dy) * 16))
    cv2.line(k, p0, p1, 1.0, 1, cv2.LINE_AA, sh)
    total = k.sum()
    if total <= 0:
        k[size // 2, size // 2] = 1.0
        total = 1.0
    return k / total


class SyntheticSource:
    """A deterministic face scene. `length=None` streams forever."""

    live = True
    is_camera = False

    def __init__(self, seed: int = 0, size: tuple[int, int] = (1280, 720), fps: float = 30.0,
                 length: int | None = None):
        w, h = int(size[0]), int(size[1])
        if w < 64 or h < 64 or seed < 0 or fps <= 0:
            raise SourceError(f"bad synthetic scene: size {w}x{h}, seed {seed}, fps {fps}")
        self.seed = int(seed)
        self.size = (w, h)
        self.fps = float(fps)
        self.length = length
        self.name = f"Synthetic scene (seed {seed})"
        self.bad_frames = 0
        self._seg = max(8, round(SEGMENT_S * self.fps))
        self._s = h / 720.0  # geometry scale
        self.good_max_blur = GOOD_MAX_BLUR * self._s
        self._margin = int(math.ceil(20 * self._s)) + 2
        rng = np.random.default_rng([self.seed, 10**6])
        self._phases = rng.uniform(0, 2 * math.pi, 2)
        self._skin = _SKINS[int(rng.integers(len(_SKINS)))]
        self._hair = _HAIRS[int(rng.integers(len(_HAIRS)))]
        self._iris = _IRISES[int(rng.integers(len(_IRISES)))]
        self._shirt = _SHIRTS[int(rng.integers(len(_SHIRTS)))]
        self._bg: np.ndarray | None = None
        self._next = 0
        self._opened = False

    # -- FrameSource --------------------------------------------------------------------
    def open(self) -> None:
        self._background()
        self._next = 0
        self._opened = True

    def read(self) -> Frame | None:
        if not self._opened:
            raise SourceError(f"{self.name} is not open: call open() first")
        if self.length is not None and self._next >= self.length:
            return None
        i = self._next
        self._next += 1
        return self.frame_at(i)

    def close(self) -> None:
        self._opened = False

    # -- pure helpers ---------------------------------------------------------------------
    def frame_at(self, index: int) -> Frame:
        return Frame(index=index, t_ns=self.t_ns(index), pixels=self.render(index),
                     truth=self.truth_at(index))

    def t_ns(self, index: int) -> int:
        return round(index * 1e9 / self.fps)

    def truth_at(self, index: int) -> dict[str, float]:
        """Ground truth of frame `index` without rendering it."""
        st = self._state(index)
        blur = round(math.hypot(st["cam_blur"], st["face_blur"]), 2)
        turn = round(abs(st["turn"]), 3)
        closed = int(st["closed"])
        good = int(not closed and blur < self.good_max_blur and turn < GOOD_MAX_TURN)
        return {"eyes_closed": closed, "blur": blur, "head_turn": turn, "good": good}

    def face_box_at(self, index: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the face ellipse (chin to hairline) in frame `index`."""
        st = self._state(index)
        a, b = self._axes(st["turn"])
        return (round(st["cx"] - a), round(st["cy"] - b), round(2 * a), round(2 * b))

    # -- timeline ---------------------------------------------------------------------------
    def _offsets(self, f: float) -> tuple[float, float, float, float]:
        """(camera dx, dy, head dx, dy) in px at continuous frame time f."""
        s, seg = self._s, self._seg
        t = f / self.fps
        # slow drift of the person (< 1 px per frame: no visible blur)
        hx = 30 * s * math.sin(2 * math.pi * t / 9.0 + self._phases[0])
        hy = 10 * s * math.sin(2 * math.pi * t / 6.0 + self._phases[1])
        cx = cy = 0.0
        k = math.floor(f / seg)
        plan = _segment_plan(self.seed, k, seg)
        local = f - k * seg
        for kind, start, dur, amp, p, cycles in plan["motions"]:
            tau = (local - start) / dur
            if not 0.0 <= tau <= 1.0:
                continue
            if kind == "shake":  # oscillation under a sine envelope: starts and ends at rest
                d = amp * s * math.sin(2 * math.pi * cycles * tau) * math.sin(math.pi * tau)
                if p == 0:
                    cx += d
                else:
                    cy += d
            else:  # quick head movement out and back
                d = amp * s * math.sin(math.pi * tau) ** 2
                hx += d * math.cos(p)
                hy += d * math.sin(p)
        return cx, cy, hx, hy

    def _turn(self, index: int) -> float:
        k, j = divmod(index, self._seg)
        turn = _segment_plan(self.seed, k, self._seg)["turn"]
        if turn is None:
            return 0.0
        start, dur, peak, sign = turn
        x = j - start
        if x < 0 or x >= dur:
            return 0.0
        ramp = max(2, dur // 4)
        u = min(1.0, (x + 1) / ramp, (dur - x) / ramp)
        return sign * peak * (u * u * (3 - 2 * u))

    def _state(self, index: int) -> dict:
        k, j = divmod(index, self._seg)
        plan = _segment_plan(self.seed, k, self._seg)
        c0 = self._offsets(index - 0.5 * EXPOSURE)
        c1 = self._offsets(index + 0.5 * EXPOSURE)
        c = self._offsets(index)
        w, h = self.size
        cam_v = (c1[0] - c0[0], c1[1] - c0[1])
        face_v = (c1[2] - c0[2], c1[3] - c0[3])
        return {
            "cam": (c[0], c[1]),
            "cx": w / 2 + c[2] - c[0],
            "cy": h * 0.46 + c[3] - c[1],
            "cam_blur": math.hypot(*cam_v),
            "cam_axis": 0 if abs(cam_v[0]) >= abs(cam_v[1]) else 1,
            "face_blur": math.hypot(*face_v),
            "face_angle": math.atan2(face_v[1], face_v[0]),
            "turn": self._turn(index),
            "closed": plan["blink"] <= j < plan["blink"] + BLINK_FRAMES,
            "body_x": w / 2 + 30 * self._s * math.sin(2 * math.pi * index / self.fps / 9.0
                                                      + self._phases[0]) - c[0],
        }

    # -- drawing ---------------------------------------------------------------------------
    def _axes(self, turn: float) -> tuple[float, float]:
        return 92 * self._s * (1 - 0.16 * abs(turn)), 122 * self._s

    def _background(self) -> np.ndarray:
        """The room behind the face, rendered once (with a margin for camera shake)."""
        if self._bg is not None:
            return self._bg
        w, h = self.size
        m = self._margin
        H, W = h + 2 * m, w + 2 * m
        rng = np.random.default_rng([self.seed, 2 * 10**6])
        wall = np.array(rng.integers(120, 200, 3), np.float32)
        ramp = np.linspace(1.1, 0.8, H, dtype=np.float32)[:, None, None]
        bg = np.broadcast_to(wall * ramp, (H, W, 3)).astype(np.uint8).copy()
        s = self._s
        for _ in range(40):  # shelves, pictures, furniture
            x, y = int(rng.integers(0, W)), int(rng.integers(0, H))
            rw, rh = int(rng.integers(20, 220) * s), int(rng.integers(20, 160) * s)
            col = tuple(int(v) for v in rng.integers(30, 230, 3))
            cv2.rectangle(bg, (x, y), (x + rw, y + rh), col, -1)
            cv2.rectangle(bg, (x, y), (x + rw, y + rh), tuple(v // 2 for v in col),
                          max(1, round(3 * s)))
        for _ in range(4):  # rows of book spines: fine vertical detail
            x, y = int(rng.integers(0, W)), int(rng.integers(0, H))
            bh = int(rng.integers(60, 120) * s)
            for _b in range(int(rng.integers(10, 30))):
                bw = int(rng.integers(6, 18) * s) + 1
                col = tuple(int(v) for v in rng.integers(20, 230, 3))
                cv2.rectangle(bg, (x, y), (x + bw, y + bh - int(rng.integers(0, 20 * s + 1))),
                              col, -1)
                x += bw + 1
        for _ in range(25):
            c = (int(rng.integers(0, W)), int(rng.integers(0, H)))
            col = tuple(int(v) for v in rng.integers(30, 230, 3))
            cv2.circle(bg, c, int(rng.integers(5, 50) * s) + 1, col, -1, cv2.LINE_AA)
        noise = rng.normal(0, 7, (H, W, 1)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 0.8)[:, :, None]
        bg = np.clip(bg.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        self._bg = cv2.GaussianBlur(bg, (0, 0), 0.6)
        return self._bg

    def render(self, index: int) -> np.ndarray:
        """The (H, W, 3) uint8 BGR pixels of frame `index`."""
        st = self._state(index)
        w, h = self.size
        m = self._margin
        ox = int(np.clip(round(m + st["cam"][0]), 0, 2 * m))
        oy = int(np.clip(round(m + st["cam"][1]), 0, 2 * m))
        img = self._background()[oy:oy + h, ox:ox + w].copy()
        self._draw_body(img, st)
        a, b = self._axes(st["turn"])
        L = st["face_blur"]
        if L < 1.5:
            self._draw_head(img, None, st["cx"], st["cy"], st)
        else:
            self._draw_moving_head(img, st, a, b, L)
        Lc = st["cam_blur"]
        if Lc >= 1.5:
            n = max(2, round(Lc))
            img = cv2.blur(img, (n, 1) if st["cam_axis"] == 0 else (1, n))
        return img

    def _draw_moving_head(self, img, st, a, b, L):
        """Blur the head layer only: premultiplied colour and coverage, then composite."""
        h, w = img.shape[:2]
        pad = int(L) + 4
        x0 = max(0, int(st["cx"] - 1.5 * a) - pad)
        x1 = min(w, int(st["cx"] + 1.5 * a) + pad)
        y0 = max(0, int(st["cy"] - 1.35 * b) - pad)
        y1 = min(h, int(st["cy"] + 1.6 * b) + pad)
        if x1 <= x0 or y1 <= y0:
            return
        layer = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        self._draw_head(layer, mask, st["cx"] - x0, st["cy"] - y0, st)
        k = _motion_kernel(L, st["face_angle"])
        # one 4-channel pass: colour (premultiplied: black outside the head) and coverage
        both = cv2.filter2D(np.dstack([layer, mask]), -1, k, borderType=cv2.BORDER_CONSTANT)
        cov = both[:, :, 3:].astype(np.float32) * (1.0 / 255.0)
        roi = img[y0:y1, x0:x1].astype(np.float32)
        out = both[:, :, :3].astype(np.float32) + roi * (1.0 - cov)
        img[y0:y1, x0:x1] = np.clip(out, 0, 255).astype(np.uint8)

    def _draw_body(self, img, st):
        s, h = self._s, img.shape[0]
        x = st["body_x"]
        y = h * 0.46 - st["cam"][1] + 300 * s
        _ell(img, None, (x, y), (260 * s, 150 * s), 0, 0, 360, self._shirt, -1)
        _ell(img, None, (x, y - 120 * s), (70 * s, 40 * s), 0, 0, 180,
             _shade(self._shirt, 0.7), -1)

    def _draw_head(self, img, mask, cx, cy, st):
        """Draw hair, neck, ears, face and features centred at (cx, cy). mask gets coverage."""
        s = self._s
        turn = st["turn"]
        a, b = self._axes(turn)
        skin, hair = self._skin, self._hair
        dx = turn * 0.36 * 92 * s  # features slide towards the turn
        # hair behind the head and the neck
        _ell(img, mask, (cx - turn * 12 * s, cy - 0.12 * b), (a * 1.13, b * 1.08), 0, 0, 360,
             hair, -1)
        _rect(img, mask, (cx - 0.42 * a, cy + 0.55 * b), (cx + 0.42 * a, cy + 1.45 * b),
              _shade(skin, 0.85))
        # ears: the one on the far side of the turn hides behind the cheek
        for side in (-1, 1):
            ex = cx + side * a * (0.97 - 0.25 * max(0.0, side * turn))
            _ell(img, mask, (ex, cy + 0.02 * b), (0.15 * a, 0.26 * b), 0, 0, 360,
                 _shade(skin, 0.9), -1)
        _ell(img, mask, (cx, cy), (a, b), 0, 0, 360, skin, -1)
        _ell(img, mask, (cx, cy), (a, b), 0, 0, 360, _shade(skin, 0.8), max(1, round(2 * s)))
        # soft cheek shading on the side turned away from the camera
        if abs(turn) > 0.05:
            side = -math.copysign(1, turn)
            _ell(img, None, (cx + side * a * 0.72, cy + 0.1 * b), (a * 0.28, b * 0.7), 0, 0, 360,
                 _shade(skin, 1 - 0.07 * abs(turn)), -1)
        # fringe: upper part of the forehead covered by hair
        _ell(img, mask, (cx - turn * 8 * s, cy - 0.62 * b), (a * 1.02, b * 0.42), 0, 180, 360,
             hair, -1)
        ey = cy - 0.1 * b
        for side in (-1, 1):
            near = 1 - 0.3 * side * turn  # the eye on the turn side is farther: narrower
            ew, eh = 0.22 * 92 * s * near, 0.1 * 92 * s
            ex = cx + dx + side * 0.4 * 92 * s * (1 - 0.16 * abs(turn))
            # eyebrow
            _ell(img, None, (ex, ey - 0.2 * b), (ew * 1.25, 0.09 * b), 0, 200, 340, hair,
                 max(2, round(9 * s)))
            if st["closed"]:
                _ell(img, None, (ex, ey), (ew, eh), 0, 0, 360, _shade(skin, 0.88), -1)
                _ell(img, None, (ex, ey + 0.1 * eh), (ew, eh * 0.7), 0, 10, 170, (30, 30, 40),
                     max(2, round(3 * s)))
            else:
                _ell(img, None, (ex, ey), (ew, eh), 0, 0, 360, (235, 238, 240), -1)
                ix = ex + turn * 0.3 * ew
                _ell(img, None, (ix, ey), (eh * 0.95, eh * 0.95), 0, 0, 360, self._iris, -1)
                _ell(img, None, (ix, ey), (eh * 0.45, eh * 0.45), 0, 0, 360, (10, 10, 10), -1)
                _ell(img, None, (ix + eh * 0.3, ey - eh * 0.3), (eh * 0.18, eh * 0.18), 0, 0, 360,
                     (250, 250, 250), -1)
                _ell(img, None, (ex, ey), (ew, eh), 0, 180, 360, (30, 30, 40),
                     max(2, round(3 * s)))
                _ell(img, None, (ex, ey), (ew, eh), 0, 0, 180, _shade(skin, 0.7), max(1, round(s)))
        # nose: bridge shadow, tip and nostrils (the tip sticks out, so it slides further)
        nx = cx + dx * 1.3
        ny = cy + 0.28 * b
        _line(img, (cx + dx * 1.1 + 0.08 * a, ey + 0.15 * b), (nx + 0.1 * a, ny - 0.05 * b),
              _shade(skin, 0.78), max(1, round(3 * s)))
        _ell(img, None, (nx, ny), (0.16 * a, 0.08 * b), 0, 0, 180, _shade(skin, 0.75),
             max(1, round(3 * s)))
        for side in (-1, 1):
            _ell(img, None, (nx + side * 0.08 * a, ny + 0.02 * b), (0.045 * a, 0.025 * b), 0, 0,
                 360, _shade(skin, 0.45), -1)
        # mouth: lips and the darker line between them
        mx, my = cx + dx * 1.05, cy + 0.56 * b
        mw = 0.36 * a
        _ell(img, None, (mx, my), (mw, 0.09 * b), 0, 0, 360, (80, 80, 165), -1)
        _line(img, (mx - mw, my), (mx + mw, my), (40, 35, 90), max(2, round(3 * s)))


# -- sub-pixel drawing helpers (cv2 takes fixed-point coordinates with `shift`) ---------------
_SH = 4
_F = 1 << _SH


def _p(pt):
    return (round(pt[0] * _F), round(pt[1] * _F))


def _ell(img, mask, c, axes, angle, a0, a1, col, thick):
    ax = (max(1, round(axes[0] * _F)), max(1, round(axes[1] * _F)))
    cv2.ellipse(img, _p(c), ax, angle, a0, a1, col, thick, cv2.LINE_AA, _SH)
    if mask is not None:
        cv2.ellipse(mask, _p(c), ax, angle, a0, a1, 255, thick, cv2.LINE_AA, _SH)


def _rect(img, mask, p0, p1, col):
    pts = np.array([[p0[0], p0[1]], [p1[0], p0[1]], [p1[0], p1[1]], [p0[0], p1[1]]]) * _F
    pts = pts.round().astype(np.int32)
    cv2.fillConvexPoly(img, pts, col, cv2.LINE_AA, _SH)
    if mask is not None:
        cv2.fillConvexPoly(mask, pts, 255, cv2.LINE_AA, _SH)


def _line(img, p0, p1, col, thick):
    cv2.line(img, _p(p0), _p(p1), col, thick, cv2.LINE_AA, _SH)


def _shade(col, f):
    return tuple(int(min(255, v * f)) for v in col)
