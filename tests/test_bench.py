"""`python -m viewfinder bench`: a smoke run so the benchmark cannot rot. Shapes and sanity of
the figures only; timings are never asserted."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from viewfinder import bench

REPO = Path(__file__).resolve().parent.parent
SIZES = ("640x480", "1280x720", "1920x1080")
LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "preprocess_ms", "infer_ms")


def run_bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, "-m", "viewfinder", "bench", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def quick() -> dict:
    proc = run_bench("--json", "--quick", "--live-seconds", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _latency_ok(v: dict) -> None:
    assert set(LATENCY_KEYS) <= set(v)
    assert 0 < v["p50_ms"] <= v["p95_ms"] <= v["p99_ms"]
    assert v["infer_ms"] >= 0
    if v["preprocess_ms"] is not None:
        assert 0 < v["preprocess_ms"] <= v["p99_ms"]


def test_quick_run_reports_every_section_in_the_documented_shape(quick):
    for key in ("scoring", "torch_eager", "pairwise_baseline", "live", "shutter_to_saved_ms",
                "rss_mb", "targets", "na", "machine"):
        assert key in quick
    # every scorer is either measured at the three sizes or n/a with a reason
    assert quick["scoring"]["sharpness"] is not None
    for name, sizes in quick["scoring"].items():
        if sizes is None:
            assert quick["na"][f"scoring.{name}"]
            continue
        assert set(sizes) == set(SIZES)
        for v in sizes.values():
            _latency_ok(v)


def test_quick_run_live_pipeline_counts_add_up(quick):
    assert set(quick["live"]) == {"30", "60"}
    for fps, v in quick["live"].items():
        if v is None:  # e.g. no Qt here: said why
            assert quick["na"][f"live.{fps}"]
            continue
        assert v["captured"] > 0
        assert v["scored"] > 0 and v["skipped"] >= 0
        assert v["scored"] + v["skipped"] + v["scorer_failed"] == v["sampled"] <= v["captured"]
        assert v["scorer_failed"] == 0
        # the sampler keeps 10 of the camera's frames per second (a little slack at the edges)
        assert v["sampled"] <= v["captured"] * 10 / float(fps) + 3
        assert v["gui_stall_max_ms"] >= 0 and v["cpu_percent"] > 0 and v["peak_rss_mb"] > 0
    both = [v for v in quick["live"].values() if v]
    if len(both) == 2:  # the 60 fps camera delivers more frames in the same time
        assert quick["live"]["60"]["captured"] > quick["live"]["30"]["captured"]


def test_quick_run_shutter_memory_and_torch_figures_are_plausible(quick):
    s = quick["shutter_to_saved_ms"]
    assert 0 < s["p50"] <= s["max"] and s["bursts"] >= 1
    r = quick["rss_mb"]
    assert r["after_1k"] > 0 and r["after_20k"] > 0
    assert math.isclose(r["growth_mb"], r["after_20k"] - r["after_1k"])
    if quick["torch_eager"] is None:
        assert quick["na"]["torch_eager"]
    else:
        for size in SIZES:
            _latency_ok(quick["torch_eager"][size])
        p = quick["pairwise_baseline"]
        assert p["pairs"] == p["burst_frames"] * (p["burst_frames"] - 1) // 2
        assert p["rank_burst_ms"] > 0 and p["ours_rank_burst_ms"] > 0
    for t in quick["targets"].values():
        assert t["met"] in (True, False, None) and t["limit"] >= 0


def test_markdown_tables_show_measured_and_unavailable_sections(quick):
    md = bench.render_markdown(quick)
    assert "| sharpness | 1280x720 |" in md
    assert "Targets (issue 6)" in md
    for name, sizes in quick["scoring"].items():
        if sizes is None:
            assert f"| {name} | all | n/a: " in md


def test_measure_scorer_splits_preprocessing_when_the_scorer_has_an_input_spec():
    class SpecScorer:  # the shape of OnnxRankerScorer without a model file
        name, version, attribute_names = "spec", "1", ()

        def __init__(self):
            from viewfinder.preprocess import InputSpec

            self.spec = InputSpec(64, 64)

        def score(self, pixels):
            from viewfinder.frames import Score
            from viewfinder.preprocess import preprocess

            return Score(float(preprocess(pixels, self.spec).mean()))

    frames = [f.pixels for f in bench.synthetic_frames((320, 240), 4)]
    v = bench.measure_scorer(SpecScorer(), frames, warmup=1)
    assert v["preprocess_ms"] is not None and v["split"].startswith("derived")
    from viewfinder.scoring import make_scorer

    v = bench.measure_scorer(make_scorer("sharpness"), frames, warmup=1)
    assert v["preprocess_ms"] is None and v["infer_ms"] == v["p50_ms"]


@pytest.mark.parametrize("args, message", [
    (["--only", "bogus"], "unknown section"),
    (["--fps", "0"], "must be in"),
    (["--only", "scoring", "--child"], "--child runs only the live section"),
    (["--only", "live", "--live-scorer", "bogus"], "unknown scorer 'bogus'"),
])
def test_bad_options_give_one_line_errors(args, message, capsys):
    from viewfinder.cli import main

    try:
        code = main(["bench", *args])
    except SystemExit as e:  # argparse: usage errors exit 2
        code = e.code
    err = capsys.readouterr().err
    assert code != 0
    assert message in err and "Traceback" not in err
