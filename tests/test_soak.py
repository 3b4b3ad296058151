"""The soak (benchmarks/soak.py): synthetic scene -> reconnecting source -> sampler -> ring buffer
-> shutter every 50 frames -> scorer -> rank -> save_best, on three threads. Every press must give
exactly one photo + valid sidecar, no thread may outlive it and memory must stay flat.
Short in CI; `pytest --runslow tests/test_soak.py` runs the 20k-frame version."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "soak", Path(__file__).resolve().parent.parent / "benchmarks" / "soak.py")
soak = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("soak", soak)  # dataclasses look their module up there
_SPEC.loader.exec_module(soak)


def test_short_soak_with_unplugged_camera_loses_nothing(tmp_path):
    res = soak.run_soak(1000, tmp_path, unplug_every=170, warmup=300)
    assert res.problems == []
    assert res.frames == 1000 and res.presses == 19 and len(res.saved) == 19
    assert res.losses == res.reconnects == 5  # unplugged 5 times, back every time
    assert res.rss_end_mib - res.rss_warm_mib < 16


def test_a_burst_cut_by_an_unplug_is_saved_short(tmp_path):
    # the camera goes at stream frame 53: three frames after the press at 50, mid-burst
    res = soak.run_soak(120, tmp_path, unplug_every=54, warmup=0)
    assert res.problems == [] and res.short_bursts >= 1 and len(res.saved) == res.presses == 2


def test_the_soak_notices_a_lost_shot(tmp_path):
    """The checker itself: a deleted sidecar and a missing save are reported."""
    res = soak.run_soak(200, tmp_path, warmup=0)
    assert res.problems == []
    res.saved[0].sidecar.unlink()
    res.saved.pop()
    problems = soak.check(res, tmp_path)
    assert any("presses" in p for p in problems) and any("sidecar" in p for p in problems)


@pytest.mark.slow
def test_long_soak_20k_frames(tmp_path):
    res = soak.run_soak(20000, tmp_path, unplug_every=997)
    assert res.problems == []
    assert res.presses == 399 and len(res.saved) == 399 and res.reconnects == 20
    assert res.rss_end_mib - res.rss_warm_mib < 8
