"""The one preprocessing function, shared by training and the app."""
from __future__ import annotations

import numpy as np
import pytest

from viewfinder.preprocess import InputSpec, normalize, preprocess, preprocess_batch, resize_frame


def test_any_frame_size_becomes_the_model_input():
    spec = InputSpec(128, 96)
    for h, w in ((720, 1280), (854, 480), (60, 80)):  # landscape, portrait, smaller than input
        x = preprocess(np.zeros((h, w, 3), np.uint8), spec)
        assert x.shape == (3, 128, 96) and x.dtype == np.float32 and x.flags.c_contiguous


def test_mean_std_and_channel_order_follow_the_metadata():
    blue = np.zeros((40, 40, 3), np.uint8)
    blue[..., 0] = 255  # BGR: pure blue
    rgb = preprocess(blue, InputSpec(16, 16, (0.5,) * 3, (0.25,) * 3, "RGB"))
    assert rgb[2].min() == pytest.approx(2.0) and rgb[0].max() == pytest.approx(-2.0)
    bgr = preprocess(blue, InputSpec(16, 16, (0.5,) * 3, (0.25,) * 3, "BGR"))
    assert bgr[0].min() == pytest.approx(2.0)
    grey = np.full((20, 20, 3), 51, np.uint8)  # 0.2
    x = preprocess(grey, InputSpec(8, 8, (0.1, 0.2, 0.3), (0.5, 0.5, 0.5)))
    assert np.allclose(x[:, 0, 0], [(0.2 - 0.1) / 0.5, 0.0, (0.2 - 0.3) / 0.5], atol=1e-6)


def test_resize_keeps_the_whole_frame_by_area_averaging():
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[:, 640:] = 200  # right half bright: a subject at the edge stays in view
    small = resize_frame(frame, InputSpec(9, 16))
    assert small.shape == (9, 16, 3)
    assert (small[:, :8] == 0).all() and (small[:, 8:] == 200).all()


def test_batches_match_single_frames():
    spec = InputSpec(12, 12)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (50, 70, 3), dtype=np.uint8) for _ in range(3)]
    batch = preprocess_batch(frames, spec)
    assert batch.shape == (3, 3, 12, 12)
    assert np.array_equal(batch[1], preprocess(frames[1], spec))
    small = np.stack([resize_frame(f, spec) for f in frames])
    assert np.array_equal(normalize(small, spec), batch)  # training's cached path is the same


def test_spec_round_trips_through_metadata():
    spec = InputSpec(128, 160, (0.4, 0.5, 0.6), (0.2, 0.3, 0.4), "BGR")
    assert InputSpec.from_metadata(spec.to_metadata()) == spec


@pytest.mark.parametrize("meta", [{}, {"input_size": [128], "mean": [0] * 3, "std": [1] * 3,
                                        "channel_order": "RGB"},
                                  {"input_size": [64, 64], "mean": [0] * 3, "std": [0, 1, 1],
                                   "channel_order": "RGB"},
                                  {"input_size": [64, 64], "mean": [0] * 3, "std": [1] * 3,
                                   "channel_order": "YUV"}])
def test_bad_metadata_is_refused(meta):
    with pytest.raises(ValueError):
        InputSpec.from_metadata(meta)


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((10, 10, 3), np.float32)])
def test_bad_frames_are_refused(bad):
    with pytest.raises(ValueError, match="uint8 BGR"):
        preprocess(bad, InputSpec(8, 8))


def test_two_step_shrink_matches_a_single_area_resize():
    """The fast two-step shrink must stay within a grey level (mean) of one INTER_AREA resize."""
    import cv2

    from viewfinder.camera import open_source
    from viewfinder.preprocess import InputSpec, resize_frame

    spec = InputSpec(128, 128)
    src = open_source("synthetic:0:1920x1080")
    src.open()
    try:
        frame = src.read().pixels
    finally:
        src.close()
    ref = cv2.resize(frame, (128, 128), interpolation=cv2.INTER_AREA).astype(int)
    diff = np.abs(resize_frame(frame, spec).astype(int) - ref)
    assert diff.mean() < 1.0
