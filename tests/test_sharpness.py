import cv2
import numpy as np

from viewfinder.scoring import make_scorer, ScorerError
import pytest


def test_sharp_frame_beats_blurred_copy():
    rng = np.random.default_rng(0)
    img = (rng.random((480, 640, 3)) * 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    blurred = cv2.GaussianBlur(img, (0, 0), 4)
    s = make_scorer("sharpness")
    assert s.score(img).value > s.score(blurred).value


def test_unknown_scorer_is_a_clear_error():
    with pytest.raises(ScorerError, match="unknown scorer"):
        make_scorer("nope")
