"""Soak: the whole pure pipeline, threaded as in the app, for many frames; checks nothing is lost.

    python benchmarks/soak.py --frames 20000            # the long run (docs/reliability.md)
    python benchmarks/soak.py --frames 2000 --unplug-every 700

capture thread:  synthetic scene (small) -> ReconnectingSource -> BurstSampler -> RingBuffer ->
                 Shutter (a press every `press_every` stream frames)
scoring thread:  GuardedScorer(sharpness) on each sampled frame (newest only, like the app),
                 then rank() each finished burst, reusing live scores
save thread:     storage.save_best into a folder

With `unplug_every`, the source raises SourceError every N frames (a camera unplugged and
plugged back in); the wrapper reconnects and a burst in progress is cut short, still saved.
Frames are read as fast as they render (no real-time pacing). At the end it checks that every
accepted press produced exactly one photo + sidecar (valid JSON naming that photo and burst),
that no temporary file is left, that every thread it started has ended, and reports RSS after
warm-up and at the end. tests/test_soak.py runs it short in CI and long with --runslow.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from viewfinder.camera import SourceError, SyntheticSource  # noqa: E402
from viewfinder.camera.reconnect import ReconnectingSource  # noqa: E402
from viewfinder.frames import Burst, Frame  # noqa: E402
from viewfinder.ranking import rank  # noqa: E402
from viewfinder.ring_buffer import BurstSampler, RingBuffer  # noqa: E402
from viewfinder.scoring.guarded import GuardedScorer  # noqa: E402
from viewfinder.scoring.sharpness import SharpnessScorer  # noqa: E402
from viewfinder.shutter import Shutter, ShutterState  # noqa: E402
from viewfinder.storage import save_best  # noqa: E402


def rss_mib() -> float:
    """Resident set size of this process, MiB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


class UnpluggingSource(SyntheticSource):
    """The synthetic scene, 'unplugged' (SourceError) after every `every` frames it delivers."""

    def __init__(self, *a, every: int | None = None, counter: list[int] | None = None, **kw):
        super().__init__(*a, **kw)
        self.every = every
        self.counter = counter if counter is not None else [0]  # shared across reconnects

        self.plugged = False

    def open(self) -> None:
        super().open()
        self.plugged = True

    def close(self) -> None:
        super().close()
        self.plugged = False

    def read(self) -> Frame | None:
        if not self.plugged:
            raise SourceError(f"{self.name} is not open")
        n = self.counter[0]  # the scene goes on where it was before the unplug
        self.counter[0] += 1
        if self.every and self.counter[0] % self.every == 0:
            self.close()
            raise SourceError(f"{self.name} stopped sending frames (unplugged?)")
        return self.frame_at(n)


@dataclass
class SoakResult:
    frames: int = 0
    presses: int = 0
    ignored_presses: int = 0
    bursts: int = 0
    bursts_saved: int = 0  # save attempts finished (saved or failed)
    short_bursts: int = 0
    saved: list = field(default_factory=list)  # SavedPhoto
    save_errors: list = field(default_factory=list)
    losses: int = 0
    reconnects: int = 0
    scorer_failures: int = 0
    press_times: list = field(default_factory=list)
    rss_warm_mib: float = 0.0
    rss_trace: list = field(default_factory=list)  # (frame, MiB) every 1000 frames
    rss_end_mib: float = 0.0
    seconds: float = 0.0
    leaked_threads: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # empty when every check passed


def run_soak(frames: int, out: Path, *, size=(160, 120), press_every: int = 50,
             unplug_every: int | None = None, warmup: int | None = None,
             seed: int = 0) -> SoakResult:
    res = SoakResult()
    threads_before = set(threading.enumerate())
    warmup = warmup if warmup is not None else min(2000, frames // 5)
    out = Path(out)
    counter = [0]

    def make_source():
        return UnpluggingSource(seed=seed, size=size, every=unplug_every, counter=counter)

    stop = threading.Event()
    shutter = Shutter(7, 3)
    scorer = GuardedScorer(SharpnessScorer())
    live: queue.Queue[Frame | Burst | None] = queue.Queue()
    saves: queue.Queue = queue.Queue()
    cache: OrderedDict[int, object] = OrderedDict()

    def on_lost():
        burst = shutter.cut_short()
        if burst is not None:
            live.put(burst)

    source = ReconnectingSource(make_source(), factory=make_source, stop=stop,
                                first_delay_s=0.001, max_delay_s=0.01, on_lost=on_lost)

    def capture():
        sampler, ring = BurstSampler(10.0), RingBuffer(8)
        source.open()
        try:
            for n in range(frames):
                if n == warmup:
                    res.rss_warm_mib = rss_mib()
                if n % 1000 == 0:
                    res.rss_trace.append((n, round(rss_mib(), 1)))
                frame = source.read()
                res.frames += 1
                if n and n % press_every == 0:
                    # frames come faster than real time here: a press waits until earlier
                    # saves are done (as a person would), so a backlog cannot pose as a leak
                    while not stop.is_set() and res.presses - res.bursts_saved > 1:
                        time.sleep(0.001)
                    pre = ring.frames()
                    if pre and shutter.press(pre, pre[-1].t_ns):
                        res.presses += 1
                        res.press_times.append(pre[-1].t_ns)
                    else:
                        res.ignored_presses += 1
                if not sampler.accept(frame):
                    continue
                ring.push(frame)
                live.put(frame)
                if shutter.state is ShutterState.COLLECTING:
                    burst = shutter.add(frame)
                    if burst is not None:
                        live.put(burst)
            on_lost()  # stopping mid-burst: keep it, as the app does
        finally:
            source.close()
            live.put(None)

    def scoring():
        while True:
            item = live.get()
            if item is None:
                saves.put(None)
                return
            if isinstance(item, Frame):
                if live.qsize() > 2:  # behind: only the newest frames are scored live
                    continue
                cache[item.index] = scorer.score(item.pixels)
                while len(cache) > 128:
                    cache.popitem(last=False)
                continue
            scores = [cache[f.index] if f.index in cache else scorer.score(f.pixels)
                      for f in item.frames]
            saves.put((item, rank(item, scores)))

    def saving():
        while True:
            job = saves.get()
            if job is None:
                return
            burst, ranking = job
            res.bursts += 1
            res.short_bursts += burst.short
            try:
                res.saved.append(save_best(burst.frames[ranking.best.pos], ranking, burst,
                                           folder=out, scorer_name=scorer.name,
                                           scorer_version=scorer.version))
            except Exception as exc:  # noqa: BLE001 - counted and reported as a problem
                res.save_errors.append(f"{type(exc).__name__}: {exc}")
            res.bursts_saved += 1

    t0 = time.monotonic()
    workers = [threading.Thread(target=f, name=f"soak-{f.__name__}")
               for f in (capture, scoring, saving)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(600)
    res.seconds = time.monotonic() - t0
    res.rss_end_mib = rss_mib()
    res.losses, res.reconnects = source.losses, source.reconnects
    res.scorer_failures = scorer.failures
    deadline = time.monotonic() + 3.0
    while True:
        res.leaked_threads = sorted(t.name for t in threading.enumerate()
                                    if t not in threads_before and t.is_alive())
        if not res.leaked_threads or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    res.problems = check(res, out)
    return res


def check(res: SoakResult, out: Path) -> list[str]:
    """Every press -> exactly one saved photo + sidecar that describe that press's burst."""
    problems = []
    if res.save_errors:
        problems.append(f"{len(res.save_errors)} saves failed, first: {res.save_errors[0]}")
    if not (res.presses == res.bursts == len(res.saved)):
        problems.append(f"{res.presses} presses, {res.bursts} bursts, {len(res.saved)} saved")
    photos = sorted(out.glob("VF_*.jpg"))
    sidecars = sorted(out.glob("VF_*.json"))
    if len(photos) != len(res.saved) or len(sidecars) != len(res.saved):
        problems.append(f"{len(photos)} photos and {len(sidecars)} sidecars on disk for "
                        f"{len(res.saved)} saves")
    if list(out.glob(".VF_*")):
        problems.append("temporary files left behind")
    pressed = list(res.press_times)
    seen = []
    for saved in res.saved:
        try:
            side = json.loads(saved.sidecar.read_text(encoding="utf-8"))
            ok = (side["photo"] == saved.path.name and saved.path.stat().st_size > 0
                  and side["chosen"]["frame_index"] in
                  {f["frame_index"] for f in side["burst"]["frames"]})
            seen.append(side["burst"]["press_t_ns"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{saved.sidecar.name}: bad sidecar ({exc})")
            continue
        if not ok:
            problems.append(f"{saved.sidecar.name}: does not describe {saved.path.name}")
    if sorted(seen) != sorted(pressed):
        problems.append("saved bursts do not match the presses one to one")
    if res.leaked_threads:
        problems.append(f"threads left running: {res.leaked_threads}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--press-every", type=int, default=50)
    ap.add_argument("--unplug-every", type=int, default=None,
                    help="simulate an unplugged camera every N frames")
    ap.add_argument("--size", default="160x120", help="synthetic frame size WxH (160x120)")
    ap.add_argument("--out", help="keep the photos here (default: a temporary folder)")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="vf-soak-") as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        res = run_soak(args.frames, out, size=(w, h), press_every=args.press_every,
                       unplug_every=args.unplug_every)
    print(f"frames {res.frames} in {res.seconds:.1f} s ({res.frames / res.seconds:.0f} frames/s)")
    print(f"presses {res.presses} (ignored {res.ignored_presses}), bursts {res.bursts} "
          f"(short {res.short_bursts}), saved {len(res.saved)}")
    print(f"camera lost {res.losses}x, reconnected {res.reconnects}x; "
          f"scorer failures {res.scorer_failures}")
    print(f"RSS after warm-up {res.rss_warm_mib:.1f} MiB, at the end {res.rss_end_mib:.1f} MiB "
          f"({res.rss_end_mib - res.rss_warm_mib:+.1f} MiB)")
    for p in res.problems:
        print(f"PROBLEM: {p}")
    print("OK" if not res.problems else "FAILED")
    return 0 if not res.problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
