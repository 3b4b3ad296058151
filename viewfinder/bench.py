"""`python -m viewfinder bench [--json] [--quick]`: the pipeline's performance figures in one run.

A measuring tool beside the pipeline, not a stage of it. It drives the real stages on the
synthetic scene, so it runs on any machine:

  scoring   per-frame latency of every scorer at 640x480, 1280x720, 1920x1080 (one thread)
  shutter   last post-frame -> best frame's file on disk (score it, rank, storage.save_best)
  rss       RSS after 1k and 20k frames through capture -> sample -> ring buffer -> score
  live      the real MainWindow, offscreen, on a simulated 30 and 60 frames/s camera; each rate
            runs in a child process (`--only live --fps F --child`) so its CPU and peak RSS are
            the app's own, not the benchmark's
  torch     the ranker network in PyTorch eager vs onnxruntime (the same weights), and the cost
            of ranking a burst with the pairwise "Baseline" head vs ours

Whatever does not exist yet (an untrained model, torch or Qt not installed) is reported as
"n/a: reason" in the tables and null in the JSON, with the reason under "na".
Like app.py, the live section imports Qt (lazily, only there); torch is imported only by the
torch section, last, so it weighs on no other figure.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = ((640, 480), (1280, 720), (1920, 1080))
SCORERS = ("sharpness", "faces", "ranker", "fused")  # plus anything else registered
LIVE_SCORERS = ("fused", "ranker", "default")  # the live sections use the first that builds
SECTIONS = ("scoring", "shutter", "rss", "live", "torch")
LIVE_SIZE = (1280, 720)
HEARTBEAT_MS = 5  # GUI-thread timer period; a stall is a heartbeat gap beyond it
PRESS_EVERY_S = 2.0
LIVE_WARMUP_S = 1.5  # settle (0.5 s) + a full pre-shutter window (0.7 s), not measured

TARGETS = {  # issue 6, on the 2-core machine
    "fused_1280x720_p50_ms": 10.0,
    "ranker_1280x720_p50_ms": 5.0,
    "live_30_skipped": 0,
    "gui_stall_max_ms": 20.0,
    "shutter_to_saved_max_ms": 150.0,
    "rss_growth_mb": 5.0,
}


class BenchError(RuntimeError):
    """A one-line error for the user (bad option, a child run that failed)."""


# ---------------------------------------------------------------- small helpers


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _pcts(samples_ms) -> dict:
    a = np.asarray(samples_ms, np.float64)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "p99_ms": float(np.percentile(a, 99))}


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:160]


def rss_mb() -> float:
    """Current resident set size of this process."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_rss_mb()


def reset_peak_rss() -> bool:
    """Start a new peak-RSS window (Linux >= 4.0); False where the peak cannot be reset."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak RSS since `reset_peak_rss` (VmHWM), else since the process started."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # noqa: PLC0415 - not on Windows

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (2**20 if sys.platform == "darwin" else 1024)


def synthetic_frames(size: tuple[int, int], n: int, seed: int = 0, fps: float = 30.0,
                     stride: int = 1):
    """n Frames of the synthetic scene (every `stride`-th stream frame)."""
    from viewfinder.camera import SyntheticSource  # noqa: PLC0415

    src = SyntheticSource(seed=seed, size=size, fps=fps)
    return [src.frame_at(i * stride) for i in range(n)]


def build_scorer(name: str):
    """(scorer, None) or (None, reason it is not available)."""
    from viewfinder.scoring import make_scorer, scorer_names  # noqa: PLC0415

    if name not in scorer_names():
        return None, "not registered in viewfinder.scoring yet"
    try:
        return make_scorer(name), None
    except Exception as e:  # noqa: BLE001 - any failure to build is "n/a" here, not a crash
        return None, _first_line(e)


def live_scorer(preferred: str | None):
    """The scorer the live, shutter and rss sections run: `preferred`, else the best that builds."""
    names = (preferred,) if preferred else LIVE_SCORERS
    reasons = []
    for name in names:
        scorer, why = build_scorer(name)
        if scorer is not None:
            return name, scorer
        reasons.append(f"{name}: {why}")
    raise BenchError(f"no scorer to run the pipeline with ({'; '.join(reasons)})")


def machine() -> dict:
    import cv2  # noqa: PLC0415

    info = {"date": dt.datetime.now().isoformat(timespec="seconds"), "cores": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(),
            "opencv": cv2.__version__, "cv2_threads": cv2.getNumThreads()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in f
                                if line.startswith("model name")), platform.processor())
    except OSError:
        info["cpu"] = platform.processor()
    try:
        import onnxruntime  # noqa: PLC0415

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    if hasattr(os, "getloadavg"):
        info["load_avg_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


# ---------------------------------------------------------------- scoring


def _timed(fn, *a):
    t0 = time.perf_counter()
    out = fn(*a)
    return out, _ms(time.perf_counter() - t0)


def measure_scorer(scorer, frames: list[np.ndarray], warmup: int = 2) -> dict:
    """Latency percentiles of `scorer.score`, split into preprocessing and inference.

    No scorer exposes its own split yet, so: where the scorer (or the ranker inside it) has an
    InputSpec, preprocessing is `viewfinder.preprocess.preprocess` timed on the same frame and
    infer = total - preprocess ("derived"); otherwise the whole call counts as inference.
    Fused-style scorers also get their parts timed (faces, sharpness, ranker) under `parts_p50_ms`.
    """
    from viewfinder.preprocess import preprocess  # noqa: PLC0415

    ranker = getattr(scorer, "ranker", None)
    spec = getattr(scorer, "spec", None) or getattr(ranker, "spec", None)
    parts = {}
    analyzer = getattr(scorer, "faces", None)
    if analyzer is not None and hasattr(analyzer, "faces"):
        parts["faces"] = analyzer.faces
    if hasattr(getattr(scorer, "sharpness", None), "score"):
        parts["sharpness"] = scorer.sharpness.score
    if ranker is not None:
        parts["ranker"] = ranker.score
    for f in frames[:warmup]:
        scorer.score(f)
    totals, pres = [], []
    part_ms: dict[str, list[float]] = {k: [] for k in parts}
    for f in frames:
        if spec is not None:
            pres.append(_timed(preprocess, f, spec)[1])
        totals.append(_timed(scorer.score, f)[1])
        for k, fn in parts.items():
            part_ms[k].append(_timed(fn, f)[1])
    out = _pcts(totals)
    out["mean_ms"] = float(np.mean(totals))
    if spec is not None:
        out["preprocess_ms"] = float(np.median(pres))
        out["infer_ms"] = max(0.0, out["p50_ms"] - out["preprocess_ms"])
        out["split"] = "derived: viewfinder.preprocess timed alone, infer = p50 - preprocess"
    else:
        out["preprocess_ms"] = None
        out["infer_ms"] = out["p50_ms"]
        out["split"] = "none: the scorer has no separate preprocessing step"
    if parts:
        out["parts_p50_ms"] = {k: float(np.median(v)) for k, v in part_ms.items()}
    out["frames"] = len(frames)
    return out


def bench_scoring(n_frames: int, na: dict) -> dict:
    import cv2  # noqa: PLC0415

    from viewfinder.scoring import scorer_names  # noqa: PLC0415

    names = list(dict.fromkeys([*SCORERS, *(n for n in scorer_names() if n != "default")]))
    frames = {s: [f.pixels for f in synthetic_frames(s, n_frames, stride=2)] for s in SIZES}
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # onnxruntime scorers already run one intra-op thread
    try:
        out = {}
        for name in names:
            scorer, why = build_scorer(name)
            if scorer is None:
                out[name] = None
                na[f"scoring.{name}"] = why
                continue
            out[name] = {f"{w}x{h}": measure_scorer(scorer, frames[(w, h)]) for w, h in SIZES}
            del scorer
        return out
    finally:
        cv2.setNumThreads(threads)
        del frames
        gc.collect()


# ---------------------------------------------------------------- shutter to saved


def bench_shutter(scorer, scorer_name: str, n_bursts: int) -> dict:
    """Last post-frame -> best frame's file on disk, per burst at 1280x720 JPEG.

    The burst's earlier frames were scored live (as in the app, whose scoring thread caches
    them), so the timed path is: score the last post-frame, rank, save_best (fsync included).
    """
    from viewfinder.config import BufferConfig  # noqa: PLC0415
    from viewfinder.frames import Burst  # noqa: PLC0415
    from viewfinder.ranking import rank  # noqa: PLC0415
    from viewfinder.storage import save_best  # noqa: PLC0415

    cfg = BufferConfig()
    n = cfg.burst_len
    stride = round(30.0 / cfg.burst_fps)
    total, score_ms, rank_ms, save_ms = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="vf-bench-") as tmp:
        for b in range(n_bursts):
            frames = synthetic_frames(LIVE_SIZE, n, seed=b, stride=stride)
            scores = [scorer.score(f.pixels) for f in frames[:-1]]
            t0 = time.perf_counter()
            scores.append(scorer.score(frames[-1].pixels))
            t1 = time.perf_counter()
            burst = Burst(tuple(frames), shutter_pos=cfg.pre_frames, press_t_ns=frames[cfg.pre_frames].t_ns)
            ranking = rank(burst, scores)
            t2 = time.perf_counter()
            saved = save_best(frames[ranking.best.pos], ranking, burst, folder=Path(tmp), fmt="jpeg",
                              quality=95, scorer_name=scorer_name, scorer_version=str(scorer.version))
            t3 = time.perf_counter()
            if not saved.path.is_file():
                raise BenchError(f"save_best returned {saved.path} but it is not on disk")
            total.append(_ms(t3 - t0))
            score_ms.append(_ms(t1 - t0))
            rank_ms.append(_ms(t2 - t1))
            save_ms.append(_ms(t3 - t2))
    return {"p50": float(np.median(total)), "max": float(np.max(total)), "bursts": n_bursts,
            "burst_frames": n, "size": f"{LIVE_SIZE[0]}x{LIVE_SIZE[1]}", "format": "jpeg q95",
            "scorer": scorer_name, "score_last_p50_ms": float(np.median(score_ms)),
            "rank_p50_ms": float(np.median(rank_ms)), "save_p50_ms": float(np.median(save_ms)),
            "save_max_ms": float(np.max(save_ms))}


# ---------------------------------------------------------------- memory over a long run


def bench_rss(scorer, checkpoints: tuple[int, int]) -> dict:
    """Frames through capture -> sampler -> ring buffer -> score (+ a shutter press every ~9 s of
    stream time, ranked), unpaced; RSS after gc at each checkpoint."""
    from viewfinder.camera import SyntheticSource  # noqa: PLC0415
    from viewfinder.config import BufferConfig  # noqa: PLC0415
    from viewfinder.ranking import rank  # noqa: PLC0415
    from viewfinder.ring_buffer import BurstSampler, RingBuffer  # noqa: PLC0415
    from viewfinder.shutter import Shutter  # noqa: PLC0415

    cfg = BufferConfig()
    src = SyntheticSource(seed=3, size=LIVE_SIZE, fps=30.0)
    src.open()
    sampler, ring = BurstSampler(cfg.burst_fps), RingBuffer(cfg.pre_frames + 1)
    shutter = Shutter(cfg.pre_frames, cfg.post_frames)
    recent: dict[int, object] = {}  # frame index -> score, as the scoring thread's cache
    out, scored, bursts = {}, 0, 0
    t0 = time.perf_counter()
    try:
        for i in range(max(checkpoints)):
            frame = src.read()
            if sampler.accept(frame):
                ring.push(frame)
                recent[frame.index] = scorer.score(frame.pixels)
                scored += 1
                for k in [k for k in recent if k < frame.index - 64]:
                    del recent[k]
                if scored % 90 == 0:
                    pre = ring.frames()
                    shutter.press(pre, pre[-1].t_ns)
                else:
                    burst = shutter.add(frame)
                    if burst is not None:
                        rank(burst, [recent.get(f.index) for f in burst.frames])
                        bursts += 1
            if i + 1 in checkpoints:
                gc.collect()
                out[i + 1] = rss_mb()
    finally:
        src.close()
    first, last = sorted(checkpoints)
    return {"after_1k": out[first], "after_20k": out[last], "growth_mb": out[last] - out[first],
            "frames": [first, last], "scored": scored, "bursts": bursts,
            "seconds": time.perf_counter() - t0, "size": f"{LIVE_SIZE[0]}x{LIVE_SIZE[1]}"}


# ---------------------------------------------------------------- live pipeline (child process)


class _CountingSource:
    """A FrameSource that counts the frames the capture thread reads."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.fps, self.live, self.is_camera = inner.name, inner.fps, inner.live, inner.is_camera
        self.reads = 0

    def open(self) -> None:
        self.inner.open()

    def read(self):
        frame = self.inner.read()
        self.reads += frame is not None
        return frame

    def close(self) -> None:
        self.inner.close()


def run_live(fps: float, seconds: float, scorer_name: str | None,
             press_every: float = PRESS_EVERY_S) -> dict:
    """The real MainWindow, offscreen, on a synthetic camera at `fps`; shutter every 2 s.

    Falls back to the bare capture + scoring threads (mode "threads") when the window cannot be
    built. Call in a process of its own: it creates the QApplication.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt, QTimer  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from viewfinder.camera import SyntheticSource  # noqa: PLC0415
    from viewfinder.config import AppConfig, SaveConfig  # noqa: PLC0415

    app = QApplication.instance() or QApplication([sys.argv[0]])
    name, scorer = live_scorer(scorer_name)
    source = _CountingSource(SyntheticSource(seed=0, size=LIVE_SIZE, fps=fps))
    tmp = tempfile.TemporaryDirectory(prefix="vf-bench-live-")
    stats = {"emitted": 0, "scored": 0, "latency": [], "reviews_at": [], "bursts": 0, "burst_frames": 0, "reused": 0,
             "saved": [], "last_frame_to_saved": [], "burst_at": None, "measuring": False}
    mode, note = "window", ""
    window = capture = scoring = None
    try:
        from viewfinder.ui.main_window import MainWindow  # noqa: PLC0415
        from viewfinder.ui.settings import open_settings  # noqa: PLC0415

        config = AppConfig(source="synthetic", save=SaveConfig(folder=Path(tmp.name) / "photos"),
                           mirror=False)
        (Path(tmp.name) / "photos").mkdir()
        window = MainWindow(config, scorer, settings=open_settings(Path(tmp.name) / "s.ini"),
                            source=source, interactive=False)
        window.resize(1280, 800)
        window.show()
        scoring, capture = window.scoring, window.capture
    except Exception as e:  # noqa: BLE001 - the window is being written by others right now
        if window is not None:
            window.close()
        from viewfinder.config import BufferConfig  # noqa: PLC0415
        from viewfinder.ui.capture_thread import CaptureThread  # noqa: PLC0415
        from viewfinder.ui.scoring_thread import ScoringThread  # noqa: PLC0415

        mode, note = "threads", f"MainWindow unusable ({_first_line(e)}): capture + scoring threads only"
        source = _CountingSource(SyntheticSource(seed=0, size=LIVE_SIZE, fps=fps))
        scoring = ScoringThread(scorer)
        capture = CaptureThread(source, BufferConfig(), scoring)
        scoring.start()
        capture.start()

    def on_scored(live) -> None:
        if stats["measuring"]:
            stats["emitted"] += 1
            stats["scored"] += live.scored.score is not None
            stats["latency"].append(live.scored.latency_ms)

    def on_burst_captured(n: int, short: bool) -> None:  # capture thread (direct connection)
        stats["burst_at"] = time.monotonic()

    def on_ranked(review) -> None:  # GUI thread, right after the window's own slot
        if stats["measuring"]:
            stats["reviews_at"].append(time.perf_counter())
            stats["bursts"] += 1
            stats["burst_frames"] += len(review.burst.frames)
            stats["reused"] += review.reused

    def on_saved(result) -> None:
        if stats["measuring"]:
            if result.shutter_to_saved_ms is not None:
                stats["saved"].append(result.shutter_to_saved_ms)
            if stats["burst_at"] is not None:
                stats["last_frame_to_saved"].append(_ms(time.monotonic() - stats["burst_at"]))

    scoring.frame_scored.connect(on_scored)
    scoring.burst_ranked.connect(on_ranked)
    capture.burst_captured.connect(on_burst_captured, Qt.ConnectionType.DirectConnection)
    if window is not None:
        window.photo_saved.connect(on_saved)

    gaps: list[float] = []
    stalls: list[tuple[float, float]] = []  # (start, end) of heartbeat gaps over 20 ms
    last_beat = [0.0]

    def beat() -> None:
        now = time.perf_counter()
        if stats["measuring"]:
            gaps.append(_ms(now - last_beat[0]))
            if gaps[-1] - HEARTBEAT_MS > 20.0:
                stalls.append((last_beat[0], now))
        last_beat[0] = now

    def press() -> None:
        if press_every <= 0:
            return
        if window is not None:
            window.press_shutter()
        else:
            capture.request_shutter()

    marks = {}

    def start_measuring() -> None:
        reset_peak_rss()
        marks.update(wall=time.perf_counter(), cpu=time.process_time(), reads=source.reads,
                     skipped=scoring.skipped)
        last_beat[0] = time.perf_counter()
        stats["measuring"] = True
        press()
        presser.start()

    def stop_measuring() -> None:
        stats["measuring"] = False
        marks.update(wall_end=time.perf_counter(), cpu_end=time.process_time(),
                     reads_end=source.reads, skipped_end=scoring.skipped, peak=peak_rss_mb())
        app.quit()

    heartbeat = QTimer(interval=HEARTBEAT_MS, timerType=Qt.TimerType.PreciseTimer)
    heartbeat.timeout.connect(beat)
    presser = QTimer(interval=round(max(press_every, 0.1) * 1000))
    presser.timeout.connect(press)
    heartbeat.start()
    QTimer.singleShot(round(LIVE_WARMUP_S * 1000), start_measuring)
    QTimer.singleShot(round((LIVE_WARMUP_S + seconds) * 1000), stop_measuring)
    try:
        app.exec()
    finally:
        heartbeat.stop()
        presser.stop()
        if window is not None:
            window.close()
            window.shutdown()
        else:
            scoring.stop(1.0)
            capture.stop(1.0)
        app.processEvents()
        tmp.cleanup()

    wall = marks["wall_end"] - marks["wall"]
    skipped = marks["skipped_end"] - marks["skipped"]
    lat = stats["latency"] or [float("nan")]
    at_review = sum(any(a <= t <= b for t in stats["reviews_at"]) for a, b in stalls)
    return {
        "captured": marks["reads_end"] - marks["reads"], "scored": stats["scored"],
        "skipped": skipped, "sampled": stats["emitted"] + skipped,
        "scorer_failed": stats["emitted"] - stats["scored"],
        "gui_stall_max_ms": max(0.0, max(gaps, default=HEARTBEAT_MS) - HEARTBEAT_MS),
        "gui_heartbeat_gap_p99_ms": float(np.percentile(gaps, 99)) if gaps else None,
        "gui_stalls_over_20ms": len(stalls), "gui_stalls_at_burst_review": at_review,
        "cpu_percent": 100.0 * (marks["cpu_end"] - marks["cpu"]) / wall,
        "peak_rss_mb": marks["peak"],
        "seconds": wall, "fps": fps, "scorer": name, "mode": mode, "note": note,
        "press_every_s": press_every,
        "score_latency_p50_ms": float(np.nanmedian(lat)), "score_latency_max_ms": float(np.nanmax(lat)),
        "bursts": stats["bursts"], "burst_frames": stats["burst_frames"],
        "burst_frames_rescored": stats["burst_frames"] - stats["reused"],
        "press_to_saved_p50_ms": float(np.median(stats["saved"])) if stats["saved"] else None,
        "last_frame_to_saved_p50_ms": (float(np.median(stats["last_frame_to_saved"]))
                                       if stats["last_frame_to_saved"] else None),
        "last_frame_to_saved_max_ms": (float(np.max(stats["last_frame_to_saved"]))
                                       if stats["last_frame_to_saved"] else None),
    }


def live_in_child(fps: float, seconds: float, scorer_name: str | None, press_every: float,
                  na: dict) -> dict | None:
    cmd = [sys.executable, "-m", "viewfinder", "bench", "--only", "live", "--child", "--json",
           "--fps", str(fps), "--live-seconds", str(seconds), "--press-every", str(press_every)]
    if scorer_name:
        cmd += ["--live-scorer", scorer_name]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              timeout=seconds + LIVE_WARMUP_S + 120)
    except subprocess.TimeoutExpired:
        na[f"live.{fps:g}"] = "the live run did not finish"
        return None
    if proc.returncode != 0:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        na[f"live.{fps:g}"] = f"live run failed: {err[:200]}"
        return None
    return json.loads(proc.stdout)["live"][f"{fps:g}"]


# ---------------------------------------------------------------- torch eager and the pairwise head


def _ranker_metadata() -> dict:
    """The shipped ranker's metadata (models/ranker.onnx), or {} when there is none yet."""
    from viewfinder.scoring import MODELS_DIR  # noqa: PLC0415

    path = MODELS_DIR / "ranker.onnx"
    if not path.is_file():
        return {}
    try:
        import onnx  # noqa: PLC0415

        props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        return json.loads(props.get("viewfinder", "{}"))
    except Exception:  # noqa: BLE001 - a bad file just means the default architecture
        return {}


def bench_torch(n_frames: int, repeats: int, na: dict) -> tuple[dict | None, dict | None, dict | None]:
    """(torch_eager, onnx_same_network, pairwise_baseline). The network is the shipped ranker's
    architecture (from models/ranker.onnx's metadata, else ModelConfig's defaults) with seeded
    random weights, BatchNorm folded as in export: timing does not depend on the weights, and
    both runtimes get the very same ones."""
    try:
        import torch  # noqa: PLC0415

        from viewfinder.training.model import ModelConfig, Ranker, fuse_batchnorm  # noqa: PLC0415
    except ImportError as e:
        for k in ("torch_eager", "onnx_same_network", "pairwise_baseline"):
            na[k] = f"torch not installed ({_first_line(e)})"
        return None, None, None
    import cv2  # noqa: PLC0415

    from viewfinder.preprocess import InputSpec  # noqa: PLC0415

    meta = _ranker_metadata()
    kw = {}
    if meta:
        kw = {"backbone": meta.get("backbone", "sqnet4"), "head": meta.get("head", "C"),
              "height": int(meta["input_size"][0]), "width": int(meta["input_size"][1])}
        if kw["head"] == "C":
            kw["attributes"] = len(meta.get("attribute_names", [])) or 5
    cfg = ModelConfig(**kw)
    spec = InputSpec.from_metadata(meta) if meta else InputSpec(cfg.height, cfg.width)
    arch = {"backbone": cfg.backbone, "head": cfg.head, "input": f"{cfg.height}x{cfg.width}",
            "from": "models/ranker.onnx metadata" if meta else "ModelConfig defaults (no models/ranker.onnx)"}
    torch_threads = torch.get_num_threads()
    cv_threads = cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        torch.manual_seed(0)
        model = fuse_batchnorm(Ranker(cfg))
        session = _export_to_onnxruntime(torch, model, cfg, na)

        def torch_run(x):
            with torch.inference_mode():
                return model(torch.from_numpy(x))

        eager, ort_out = {}, ({} if session is not None else None)
        for w, h in SIZES:
            frames = [f.pixels for f in synthetic_frames((w, h), n_frames, stride=2)]
            eager[f"{w}x{h}"] = _measure_runtime(torch_run, frames, spec)
            if session is not None:
                eager_ms = eager[f"{w}x{h}"]["infer_ms"]
                r = _measure_runtime(lambda x: session.run(None, {"image": x}), frames, spec)
                r["torch_over_onnx"] = eager_ms / r["infer_ms"] if r["infer_ms"] > 0 else None
                ort_out[f"{w}x{h}"] = r
        for v in (eager, *([ort_out] if ort_out else [])):
            v["network"] = arch
        pairwise = _bench_pairwise(torch, cfg, model, spec, session, repeats)
        return eager, ort_out, pairwise
    finally:
        torch.set_num_threads(torch_threads)
        cv2.setNumThreads(cv_threads)


def _export_to_onnxruntime(torch, model, cfg, na: dict):
    """The same module exported to a temp ONNX file, in onnxruntime on one intra-op thread."""
    try:
        import onnxruntime as ort  # noqa: PLC0415

        with tempfile.TemporaryDirectory(prefix="vf-bench-onnx-") as tmp:
            path = Path(tmp) / "net.onnx"
            import warnings  # noqa: PLC0415

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (torch.zeros(1, 3, cfg.height, cfg.width),), str(path),
                                  input_names=["image"], output_names=["score", "attributes"],
                                  dynamic_axes={"image": {0: "n"}}, opset_version=17, dynamo=False)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001
        na["onnx_same_network"] = f"export to onnxruntime failed: {_first_line(e)}"
        return None


def _measure_runtime(run, frames, spec, warmup: int = 2) -> dict:
    """Per frame: viewfinder.preprocess, then the network on a batch of one."""
    from viewfinder.preprocess import preprocess  # noqa: PLC0415

    for f in frames[:warmup]:
        run(preprocess(f, spec)[None])
    totals, pres, infers = [], [], []
    for f in frames:
        x, p = _timed(preprocess, f, spec)
        _, i = _timed(run, x[None])
        totals.append(p + i)
        pres.append(p)
        infers.append(i)
    out = _pcts(totals)
    out.update(preprocess_ms=float(np.median(pres)), infer_ms=float(np.median(infers)),
               split="measured: preprocess and network timed separately", frames=len(frames))
    return out


def _bench_pairwise(torch, cfg, ranker, spec, session, repeats: int) -> dict:
    """Ranking one 11-frame burst (already preprocessed, the same for both): the pairwise head
    (features once per frame, then all n(n-1)/2 pairs through its FC stack, as
    BaselinePairwise.rank_burst does; and the siamese way, both backbones for every pair) vs our
    single-frame ranker (n forward passes, one by one as live and batched)."""
    from viewfinder.config import BufferConfig  # noqa: PLC0415
    from viewfinder.preprocess import preprocess  # noqa: PLC0415
    from viewfinder.training.model import BaselinePairwise, ModelConfig, fuse_batchnorm  # noqa: PLC0415

    n = BufferConfig().burst_len
    frames = synthetic_frames(LIVE_SIZE, n, stride=3)
    x = torch.from_numpy(np.stack([preprocess(f.pixels, spec) for f in frames]))  # (n, 3, h, w)
    torch.manual_seed(0)
    pairwise = fuse_batchnorm(BaselinePairwise(ModelConfig(cfg.backbone, "baseline", 1, cfg.height, cfg.width)))
    i, j = torch.triu_indices(n, n, 1)

    def siamese():
        return pairwise(x[i], x[j])  # (n(n-1)/2,) both images through the backbone per pair

    def ours_one_by_one():
        return [ranker(x[k:k + 1]) for k in range(n)]

    def best_of(fn, runs: int = repeats) -> float:
        times = []
        with torch.inference_mode():
            if runs > 1:
                fn()  # warm-up
            for _ in range(runs):
                times.append(_timed(fn)[1])
        return float(np.median(times))

    out = {"burst_frames": n, "pairs": n * (n - 1) // 2,
           "rank_burst_ms": best_of(lambda: pairwise.rank_burst(x)),
           "siamese_all_pairs_ms": best_of(siamese, min(3, repeats - 1) or 1),  # ~1 s a run
           "ours_rank_burst_ms": best_of(ours_one_by_one),
           "ours_batched_ms": best_of(lambda: ranker(x)),
           "runtime": "torch eager, 1 thread, preprocessed input"}
    if session is not None:
        xn = x.numpy()
        times = []
        for _ in range(repeats + 1):
            times.append(_timed(lambda: [session.run(None, {"image": xn[k:k + 1]}) for k in range(n)])[1])
        out["ours_onnx_rank_burst_ms"] = float(np.median(times[1:]))
    return out


# ---------------------------------------------------------------- the run


def run_bench(args: argparse.Namespace) -> dict:
    only = set(args.only or SECTIONS)
    quick = args.quick
    na: dict[str, str] = {}
    result: dict = {"machine": machine(), "quick": quick}
    if "scoring" in only:
        result["scoring"] = bench_scoring(8 if quick else 60, na)
    needs_scorer = only & {"shutter", "rss"} or ("live" in only and args.child)
    name, scorer = live_scorer(args.live_scorer) if needs_scorer else (None, None)
    if "shutter" in only:
        result["shutter_to_saved_ms"] = bench_shutter(scorer, name, 4 if quick else 50)
    if "rss" in only:
        result["rss_mb"] = bench_rss(scorer, (100, 300) if quick else (1000, 20000))
    del scorer
    gc.collect()
    if "live" in only:
        seconds = args.live_seconds or (2.5 if quick else 60.0)
        fps_list = args.fps or [30.0, 60.0]
        if args.child:
            result["live"] = {f"{fps:g}": run_live(fps, seconds, args.live_scorer, args.press_every)
                              for fps in fps_list}
        else:
            result["live"] = {f"{fps:g}": live_in_child(fps, seconds, args.live_scorer,
                                                        args.press_every, na)
                              for fps in fps_list}
    if "torch" in only:
        eager, onnx_same, pairwise = bench_torch(6 if quick else 40, 2 if quick else 10, na)
        result.update(torch_eager=eager, onnx_same_network=onnx_same, pairwise_baseline=pairwise)
    if hasattr(os, "getloadavg"):
        result["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = check_targets(result)
    result["na"] = na
    return result


def check_targets(r: dict) -> dict:
    """Each target of issue 6: {"value", "limit", "met"} (met None when not measured)."""
    def get(*path):
        v = r
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        return v

    live = r.get("live") or {}
    stalls = [v["gui_stall_max_ms"] for v in live.values() if v]
    values = {
        "fused_1280x720_p50_ms": get("scoring", "fused", "1280x720", "p50_ms"),
        "ranker_1280x720_p50_ms": get("scoring", "ranker", "1280x720", "p50_ms"),
        "live_30_skipped": get("live", "30", "skipped"),
        "gui_stall_max_ms": max(stalls) if stalls else None,
        "shutter_to_saved_max_ms": get("shutter_to_saved_ms", "max"),
        "rss_growth_mb": get("rss_mb", "growth_mb"),
    }
    return {k: {"value": v, "limit": TARGETS[k], "met": None if v is None else v <= TARGETS[k]}
            for k, v in values.items()}


# ---------------------------------------------------------------- markdown


def _md(headers, rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _f(v, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def render_markdown(r: dict) -> str:
    m = r["machine"]
    na = r.get("na", {})
    out = [f"viewfinder bench — {m['date']}, {m['cores']} cores ({m.get('cpu', '?')}), "
           f"load average {m.get('load_avg_start')} -> {m.get('load_avg_end')}"
           f"{', --quick' if r.get('quick') else ''}", ""]
    if "scoring" in r:
        rows = []
        for name, sizes in r["scoring"].items():
            if sizes is None:
                rows.append([name, "all", f"n/a: {na.get(f'scoring.{name}', '')}", "", "", "", "", ""])
                continue
            for size, v in sizes.items():
                parts = ", ".join(f"{k} {x:.1f}" for k, x in v.get("parts_p50_ms", {}).items())
                rows.append([name, size, _f(v["p50_ms"], 2), _f(v["p95_ms"], 2), _f(v["p99_ms"], 2),
                             _f(v["preprocess_ms"], 2), _f(v["infer_ms"], 2), parts or "-"])
        out += ["Per-frame scoring latency, ms (cv2 and onnxruntime on 1 thread; infer = p50 - "
                "preprocess where a preprocess step exists)", "",
                _md(["scorer", "input", "p50", "p95", "p99", "preprocess", "infer", "parts p50"], rows), ""]
    if "torch_eager" in r:
        eager, ort_ = r["torch_eager"], r.get("onnx_same_network")
        if eager is None:
            out += [f"Torch eager: n/a: {na.get('torch_eager', '')}", ""]
        else:
            rows = []
            for size in (f"{w}x{h}" for w, h in SIZES):
                e, o = eager[size], (ort_ or {}).get(size)
                rows.append([size, _f(e["p50_ms"], 2), _f(e["infer_ms"], 2),
                             _f(o["p50_ms"], 2) if o else "n/a", _f(o["infer_ms"], 2) if o else "n/a",
                             _f(o.get("torch_over_onnx"), 2) if o else "n/a"])
            net = eager["network"]
            out += [f"Ranker network ({net['backbone']}, head {net['head']}, {net['input']} input, "
                    f"from {net['from']}), same weights, 1 thread, ms", "",
                    _md(["input", "torch p50", "torch infer", "onnxruntime p50", "onnxruntime infer",
                         "torch / onnxruntime"], rows), ""]
        p = r.get("pairwise_baseline")
        if p:
            out += [f"Ranking one {p['burst_frames']}-frame burst ({p['pairs']} pairs), "
                    "preprocessed input, torch eager 1 thread, ms", "",
                    _md(["pairwise head (rank_burst)", "pairwise, siamese per pair", "ours, frame by frame",
                         "ours, batched", "ours, onnxruntime"],
                        [[_f(p["rank_burst_ms"]), _f(p["siamese_all_pairs_ms"]), _f(p["ours_rank_burst_ms"]),
                          _f(p["ours_batched_ms"]), _f(p.get("ours_onnx_rank_burst_ms"))]]), ""]
    if "live" in r:
        rows = []
        for fps, v in r["live"].items():
            if v is None:
                rows.append([fps, f"n/a: {na.get(f'live.{fps}', '')}"] + [""] * 9)
                continue
            rows.append([fps, v["captured"], v["sampled"], v["scored"], v["skipped"],
                         f"{v['burst_frames']} ({v['burst_frames_rescored']})",
                         _f(v["score_latency_p50_ms"]),
                         f"{_f(v['gui_stall_max_ms'])} ({v['gui_stalls_over_20ms']}, {v['gui_stalls_at_burst_review']})",
                         _f(v["cpu_percent"], 0),
                         _f(v["peak_rss_mb"], 0), _f(v["last_frame_to_saved_p50_ms"], 0)])
        first = next((v for v in r["live"].values() if v), None)
        press = f"shutter every {first['press_every_s']:g} s" if first and first["press_every_s"] > 0 else "no shutter"
        what = (f"{first['mode']} mode, scorer {first['scorer']}, {first['seconds']:.0f} s each, {press}"
                f"{'; ' + first['note'] if first['note'] else ''}") if first else ""
        out += [f"Live pipeline at {LIVE_SIZE[0]}x{LIVE_SIZE[1]} ({what}; CPU % of one core)", "",
                _md(["camera fps", "captured", "sampled", "scored", "skipped", "burst frames (rescored)",
                     "score latency p50 ms", "GUI stall max ms (stalls > 20 ms, at a burst review)",
                     "CPU %", "peak RSS MB",
                     "last frame -> saved p50 ms"], rows), ""]
    if "shutter_to_saved_ms" in r:
        s = r["shutter_to_saved_ms"]
        out += [f"Shutter to saved: last post-frame -> best frame on disk, {s['bursts']} bursts at "
                f"{s['size']} {s['format']}, scorer {s['scorer']}, ms", "",
                _md(["p50", "max", "score last frame p50", "rank p50", "save_best p50", "save_best max"],
                    [[_f(s["p50"]), _f(s["max"]), _f(s["score_last_p50_ms"]), _f(s["rank_p50_ms"], 2),
                      _f(s["save_p50_ms"]), _f(s["save_max_ms"])]]), ""]
    if "rss_mb" in r:
        s = r["rss_mb"]
        a, b = s["frames"]
        out += [f"Memory: capture -> sample -> ring buffer -> score, {s['size']}, {s['scored']} frames "
                f"scored, {s['bursts']} bursts ranked", "",
                _md([f"RSS after {a} frames, MB", f"RSS after {b} frames, MB", "growth, MB"],
                    [[_f(s["after_1k"]), _f(s["after_20k"]), _f(s["growth_mb"], 2)]]), ""]
    rows = [[k, _f(t["value"], 2), _f(t["limit"], 0),
             "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")]
            for k, t in r["targets"].items()]
    out += ["Targets (issue 6)", "", _md(["target", "measured", "limit", "met"], rows)]
    other = {k: v for k, v in na.items() if not k.startswith(("scoring.", "live."))}
    if other:
        out += ["", *(f"n/a {k}: {v}" for k, v in other.items())]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- CLI


def _sections(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in names if s not in SECTIONS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown section {', '.join(bad) or text!r}: use {', '.join(SECTIONS)}")
    return names


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < v <= 3600:
        raise argparse.ArgumentTypeError(f"must be in (0, 3600]: {v}")
    return v


def cmd_bench(args: argparse.Namespace) -> int:
    if args.child and args.only != ["live"]:
        raise BenchError("--child runs only the live section (--only live)")
    if args.live_scorer:
        from viewfinder.scoring import scorer_names  # noqa: PLC0415

        if args.live_scorer not in scorer_names():
            raise BenchError(f"unknown scorer {args.live_scorer!r} for --live-scorer: use one of "
                             f"{', '.join(scorer_names())}")
    result = run_bench(args)
    if args.json:
        json.dump(result, sys.stdout, indent=1, allow_nan=False, default=_json_default)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_markdown(result))
    return 0


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o).__name__)


def add_subcommands(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="measure scoring latency, the live pipeline, shutter-to-saved and memory",
        description="Performance figures of the whole pipeline on the synthetic scene (issue 6). "
                    "Takes about 5 minutes; --quick takes seconds.")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of markdown tables")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run of a few seconds (fewer frames, 2.5 s live runs)")
    p.add_argument("--only", type=_sections, metavar="SECTIONS",
                   help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    p.add_argument("--live-seconds", type=_positive_float, metavar="S",
                   help="seconds measured per live run (default 60; 2.5 with --quick)")
    p.add_argument("--fps", type=_positive_float, action="append", metavar="FPS",
                   help="simulated camera rate for the live section; repeatable (default 30 and 60)")
    p.add_argument("--live-scorer", metavar="NAME",
                   help=f"scorer for the live, shutter and rss sections (default: first of "
                        f"{', '.join(LIVE_SCORERS)} that is available)")
    p.add_argument("--press-every", type=float, default=PRESS_EVERY_S, metavar="S",
                   help=f"live: press the shutter every S seconds; 0 never (default {PRESS_EVERY_S:g})")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_run_cmd)


def _run_cmd(args: argparse.Namespace) -> int:
    try:
        return cmd_bench(args)
    except BenchError as e:
        print(f"viewfinder bench: error: {e}", file=sys.stderr)
        return 1


__all__ = ["add_subcommands", "run_bench", "render_markdown", "measure_scorer", "check_targets"]
