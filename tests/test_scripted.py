"""Scripted mode as a user runs it: `python main.py --source ... --shutter-after ... --quit-after-save`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_app(tmp_path: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               VIEWFINDER_SETTINGS=str(tmp_path / "settings.ini"))
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_scripted_run_saves_and_prints_the_path(tmp_path):
    out = tmp_path / "photos"
    r = run_app(tmp_path, "--source", "synthetic:1:480x270", "--shutter-after", "1.5",
                "--quit-after-save", "--output", str(out), "--format", "png")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    path = Path(lines[0])
    assert path.is_file() and path.parent == out and path.suffix == ".png"
    assert "ms" in lines[1]
    side = json.loads(path.with_suffix(".json").read_text())
    assert side["chosen"]["frame_index"] == max(side["burst"]["frames"],
                                                key=lambda f: f["score"])["frame_index"]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "settings.ini").exists() or "photos" not in \
        (tmp_path / "settings.ini").read_text()  # command-line options are not persisted


@pytest.mark.parametrize("args, words", [
    (["--source", "no/such/clip.mp4"], "no such file"),
    (["--source", "synthetic:abc"], "synthetic"),
    (["--before", "-1"], "--before"),
    (["--format", "gif"], "--format"),
    (["--output", "{file}"], "output folder"),
])
def test_bad_input_gives_one_line_and_nonzero_exit(tmp_path, args, words):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    args = [a.replace("{file}", str(blocker)) for a in args]
    r = run_app(tmp_path, *args, "--shutter-after", "1", "--quit-after-save", timeout=30)
    assert r.returncode != 0
    errors = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and words in errors[0] and errors[0].startswith("viewfinder: error:")
    assert r.stdout == ""


def test_a_scorer_that_cannot_be_built_falls_back_to_sharpness(tmp_path):
    r = run_app(tmp_path, "--source", "synthetic:2:320x180", "--shutter-after", "1.3",
                "--quit-after-save", "--output", str(tmp_path), "--scorer", "missing.onnx")
    assert r.returncode == 0, r.stderr
    assert "sharpness" in r.stderr and "missing.onnx" in r.stderr
    side = json.loads(Path(r.stdout.splitlines()[0]).with_suffix(".json").read_text())
    assert side["scorer"]["name"] == "sharpness"
