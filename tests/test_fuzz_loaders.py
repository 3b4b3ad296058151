"""Fuzzing the loaders that read user files: burst images, image-folder sources, pairs.csv.

Every damaged input must end in a clear one-line DatasetError (dataset loaders) or a skipped,
counted frame (the image-folder source) - never another exception, a crash, or gigabytes of
memory for a tiny file that declares huge dimensions.
"""
from __future__ import annotations

import resource
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from viewfinder.camera.base import MAX_IMAGE_PIXELS, image_size_problem
from viewfinder.camera.image_folder import ImageFolderSource
from viewfinder.camera.image_folder import read_image as folder_read_image
from viewfinder.dataset import DatasetError, load_dataset, read_image

RNG_SEED = 7


def scene(h=90, w=120) -> np.ndarray:
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), (0, 0), 1.5)


def encoded(ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, scene())
    assert ok
    return buf.tobytes()


def mutations(data: bytes, n: int, seed: int):
    """Truncations at spread-out points, random byte flips and random junk of the same size."""
    rng = np.random.default_rng(seed)
    for cut in np.linspace(0, len(data) - 1, n // 3, dtype=int):
        yield f"truncated at {cut}", data[:cut]
    for k in range(n // 3):
        b = bytearray(data)
        for pos in rng.integers(0, len(b), size=int(rng.integers(1, 12))):
            b[pos] = int(rng.integers(0, 256))
        yield f"flipped #{k}", bytes(b)
    for k in range(n - 2 * (n // 3)):
        yield f"junk #{k}", rng.integers(0, 256, int(rng.integers(0, 300)), dtype=np.uint8).tobytes()


def png_header(w: int, h: int, real_rows: bool = False) -> bytes:
    """A PNG declaring w x h grey pixels. With real_rows the IDAT really inflates to w*h bytes
    (a decompression bomb: ~100 kB per 100 megapixels)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    raw = ((b"\0" * (w + 1)) * h) if real_rows else b"\0" * 64
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def jpeg_header(w: int, h: int) -> bytes:
    """A real small JPEG whose SOF0 marker is rewritten to declare w x h."""
    data = bytearray(encoded(".jpg"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", h, w)
    return bytes(data)


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_damaged_images_give_a_clear_error_or_a_valid_image(tmp_path, ext):
    good = encoded(ext)
    path = tmp_path / f"frame{ext}"
    outcomes = {"error": 0, "image": 0}
    for what, data in mutations(good, 90, RNG_SEED):
        path.write_bytes(data)
        try:
            img = read_image(path)
        except DatasetError as e:
            msg = str(e)
            assert path.name in msg and "\n" not in msg, what
            outcomes["error"] += 1
        else:  # a flipped byte in the middle of the pixel data can still decode
            assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8, what
            outcomes["image"] += 1
        folder_img = folder_read_image(path)
        assert folder_img is None or (folder_img.ndim == 3 and folder_img.shape[2] == 3), what
    assert outcomes["error"] >= 60  # every truncation and all junk are refused


def test_zero_byte_and_unreadable_files(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(DatasetError, match="empty.png"):
        read_image(empty)
    assert folder_read_image(empty) is None
    folder = tmp_path / "dir.jpg"
    folder.mkdir()
    with pytest.raises(DatasetError, match="dir.jpg"):
        read_image(folder)
    assert folder_read_image(folder) is None


@pytest.mark.parametrize("make", [lambda: png_header(60000, 60000), lambda: png_header(20000, 20000),
                                  lambda: jpeg_header(65000, 65000),
                                  lambda: png_header(12000, 12000, real_rows=True)],
                         ids=["png-3.6Gpx", "png-400Mpx", "jpeg-4.2Gpx", "png-bomb-144Mpx"])
def test_huge_declared_dimensions_are_refused_without_allocating(tmp_path, make):
    data = make()
    assert len(data) < 1_000_000
    path = tmp_path / ("huge.jpg" if data[:2] == b"\xff\xd8" else "huge.png")
    path.write_bytes(data)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    assert image_size_problem(data) is not None
    with pytest.raises(DatasetError, match="too large") as e:
        read_image(path)
    assert path.name in str(e.value) and "\n" not in str(e.value)
    assert folder_read_image(path) is None
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 200  # decoding any of these would take gigabytes (the bomb: 430 MB)


def test_a_big_but_legal_image_still_loads(tmp_path):
    assert image_size_problem(png_header(4000, 3000)) is None  # 12 Mpx, a phone photo
    assert 4000 * 3000 < MAX_IMAGE_PIXELS
    path = tmp_path / "big.png"
    assert cv2.imwrite(str(path), np.zeros((1500, 2000, 3), np.uint8))
    assert read_image(path).shape == (1500, 2000, 3)


def test_image_folder_source_skips_and_counts_every_bad_file(tmp_path):
    good = encoded(".png")
    (tmp_path / "a_good.png").write_bytes(good)
    (tmp_path / "b_empty.jpg").write_bytes(b"")
    (tmp_path / "c_truncated.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "d_huge.png").write_bytes(png_header(60000, 60000))
    (tmp_path / "e_junk.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 50)
    (tmp_path / "f_good.png").write_bytes(good)
    src = ImageFolderSource(tmp_path)
    src.open()
    got = []
    while (frame := src.read()) is not None:
        got.append(frame.index)
    assert got == [0, 5] and src.bad_frames == 4


def make_dataset(root: Path, pairs: bytes) -> Path:
    for name in ("f0.png", "f1.png"):
        (root / "bursts" / "b1").mkdir(parents=True, exist_ok=True)
        (root / "bursts" / "b1" / name).write_bytes(encoded(".png"))
    (root / "pairs.csv").write_bytes(pairs)
    return root


GOOD_CSV = b"burst,a,b,label\nb1,f0.png,f1.png,1\n"


@pytest.mark.parametrize("pairs", [
    b"", b"\n\n", b"\xff\xfe\x00b\x00u\x00", b"burst,a,b,label\n" + b"x" * 200_000 + b"\n",
    b"burst,a,b,label\nb1,f0.png,f1.png,1,extra\nb1,f0.png\n", b"burst\tA\tb\tlabel\n",
    b"burst,a,b,label\nb1,f0.png,f1.png,\n", b"burst,a,b,label\nb1,f0.png,f1.png,1.5\n",
    b"burst,a,b,label\nb1,\"f0.png,f1.png,1\n", b"burst,a,b,label\nb1,f0.png,f1.png,-1\n",
    b"burst,a,b,label\nb1,f1.png,f0.png,1\nb1,f0.png,f1.png,2\n",
    b"burst,a,b,label\n\x00\x00\x00,\x00,\x00,\x00\n", b"burst,a,b,label\nB1,f0.png,f1.png,1\n",
], ids=lambda b: repr(b[:24]))
def test_wrong_pairs_csv_is_one_clear_line(tmp_path, pairs):
    root = make_dataset(tmp_path / "ds", pairs)
    with pytest.raises(DatasetError) as e:
        load_dataset(root)
    msg = str(e.value)
    assert "pairs.csv" in msg and "\n" not in msg and len(msg) < 400


def test_random_csv_bytes_never_crash(tmp_path):
    rng = np.random.default_rng(RNG_SEED)
    root = make_dataset(tmp_path / "ds", GOOD_CSV)
    assert len(load_dataset(root).pairs) == 1
    for k in range(120):
        data = bytearray(GOOD_CSV)
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
            data[pos] = int(rng.integers(0, 256))
        (root / "pairs.csv").write_bytes(bytes(data))
        try:
            load_dataset(root)
        except DatasetError as e:
            assert "\n" not in str(e), k
