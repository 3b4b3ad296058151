"""Bad input to `rank` / `eval` that tests/test_cli.py does not cover: each gives exactly one
line on stderr naming the problem, nothing on stdout, and exit status 1 (2 for bad usage)."""
from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from viewfinder import storage
from viewfinder.cli import main


def png(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    assert cv2.imwrite(str(path), rng.integers(0, 255, (32, 40, 3), dtype=np.uint8))


def huge_png(w: int, h: int) -> bytes:
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.fixture
def ds(tmp_path) -> Path:
    root = tmp_path / "ds"
    for i in range(3):
        png(root / "bursts" / "b1" / f"f{i}.png", i)
    (root / "pairs.csv").write_text("burst,a,b,label\nb1,f0.png,f1.png,1\nb1,f2.png,f1.png,0\n")
    (tmp_path / "a-file").write_text("x")
    return root


def damage_huge(ds):
    (ds / "bursts" / "b1" / "f1.png").write_bytes(huge_png(60000, 60000))


def damage_csv_field(ds):
    (ds / "pairs.csv").write_text("burst,a,b,label\n" + "x" * 200_000 + "\n")


def damage_binary_csv(ds):
    (ds / "pairs.csv").write_bytes(bytes(range(256)) * 40)


def damage_no_pairs(ds):
    (ds / "pairs.csv").write_text("burst,a,b,label\n")


def damage_video(ds):
    (ds / "clip.mp4").write_bytes(os.urandom(4096))


def damage_empty_folder(ds):
    (ds / "nothing").mkdir()


def damage_truncated_model(ds):
    (ds / "model.onnx").write_bytes(b"\x08\x07\x12\x04onnx")


CASES = {
    "rank a burst holding a huge-declared image": (
        damage_huge, ["rank", "{ds}"], "too large"),
    "eval a burst holding a huge-declared image": (
        damage_huge, ["eval", "{ds}", "--scorer", "sharpness"], "too large"),
    "eval a pairs.csv with a giant field": (
        damage_csv_field, ["eval", "{ds}"], "not a valid CSV"),
    "eval a binary pairs.csv": (
        damage_binary_csv, ["eval", "{ds}"], "pairs.csv"),
    "eval a pairs.csv without pairs": (
        damage_no_pairs, ["eval", "{ds}"], "lists no pairs"),
    "eval a file instead of a dataset": (
        None, ["eval", "{tmp}/a-file"], "dataset folder not found"),
    "eval --bootstrap 0": (
        None, ["eval", "{ds}", "--bootstrap", "0"], "--bootstrap"),
    "eval --report under a regular file": (
        None, ["eval", "{ds}", "--scorer", "sharpness", "--report", "{tmp}/a-file/report"],
        "cannot write report"),
    "rank a video that is noise": (
        damage_video, ["rank", "{ds}/clip.mp4"], "clip.mp4"),
    "rank an empty folder": (
        damage_empty_folder, ["rank", "{ds}/nothing"], "nothing"),
    "rank --save-best under a regular file": (
        None, ["rank", "{ds}", "--save-best", "{tmp}/a-file/out"], "a-file"),
    "rank --save-best onto a regular file": (
        None, ["rank", "{ds}", "--save-best", "{tmp}/a-file"], "not a folder"),
    "rank with a truncated model": (
        damage_truncated_model, ["rank", "{ds}", "--scorer", "{ds}/model.onnx"], "model.onnx"),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_bad_input_is_one_line_exit_1_and_no_output(ds, tmp_path, capsys, case, as_json):
    damage, argv, words = CASES[case]
    if damage is not None:
        damage(ds)
    argv = [a.format(ds=ds, tmp=tmp_path) for a in argv] + (["--json"] if as_json else [])
    assert main(argv) == 1
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], err
    assert lines[0].startswith(f"viewfinder {argv[0]}: error: ") and "Traceback" not in err
    assert out == ""


def test_disk_full_while_saving_the_best_is_one_line_and_leaves_nothing(ds, tmp_path, capsys,
                                                                        monkeypatch):
    def full(f, data):
        f.write(data[:100])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(storage, "write_bytes", full)
    out_dir = tmp_path / "best"
    assert main(["rank", str(ds), "--save-best", str(out_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and str(out_dir) in err[0]
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("argv", [["rank"], ["eval"], ["rank", "x", "--burst-size", "-3"],
                                  ["rank", "x", "--stride", "two"], ["eval", "x", "--seed", "y"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
