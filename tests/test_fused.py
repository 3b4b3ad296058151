"""The fused scorer: synthetic bursts, weights file errors, and the numpy fitting code."""
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from viewfinder.camera.synthetic import SyntheticSource
from viewfinder.scoring import MODELS_DIR, DEFAULT_SCORER, ScorerError, make_scorer
from viewfinder.scoring.base import Scorer
from viewfinder.scoring.fused import WEIGHTS_FILE, FusedScorer, load_weights
from viewfinder.training import fuse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "faces"


@pytest.fixture(scope="module")
def fused():
    return FusedScorer(MODELS_DIR)


def test_fused_is_the_default_and_a_scorer(fused):
    assert DEFAULT_SCORER == "fused"
    assert isinstance(fused, Scorer)
    assert make_scorer("default").name == "fused"
    assert set(fused.attribute_names) >= {"eyes_open", "smile", "frontal", "sharpness"}


def _bursts_with_a_blink(seed: int, n: int = 2):
    """Windows of 11 frames at 10 frames/s that contain closed-eye frames and open-eye frames."""
    src = SyntheticSource(seed=seed, size=(640, 480), fps=30.0)
    out, i = [], 0
    while len(out) < n and i < 2000:
        if src.truth_at(i)["eyes_closed"]:
            idx = [i - 15 + 3 * k for k in range(11)]
            idx = [j for j in idx if j >= 0]
            out.append(idx)
            i += 60
        i += 1
    return src, out


@pytest.mark.parametrize("seed", [3, 11])
def test_never_picks_closed_eyes_when_open_eyes_of_similar_sharpness_exist(fused, seed):
    src, windows = _bursts_with_a_blink(seed)
    assert windows
    for idx in windows:
        truth = [src.truth_at(j) for j in idx]
        closed = [t["eyes_closed"] == 1 for t in truth]
        assert any(closed) and not all(closed)
        scores = [fused.score(src.render(j)) for j in idx]
        values = [s.value for s in scores]
        best = int(np.argmax(values))
        assert not closed[best], f"seed {seed}: picked closed-eye frame {idx[best]}"
        for s, c, t in zip(scores, closed, truth):
            if c:
                assert "eyes closed" in s.reasons
                # every closed-eye frame loses to every open-eye frame at least as sharp
                sharper_open = [v for v, cc, tt in zip(values, closed, truth)
                                if not cc and tt["blur"] <= t["blur"] + 0.5]
                assert all(v > s.value for v in sharper_open)


def test_fixture_open_eyes_beat_closed_eyes(fused):
    o = fused.score(cv2.imread(str(FIXTURES / "synthetic_open.jpg")))
    c = fused.score(cv2.imread(str(FIXTURES / "synthetic_closed.jpg")))
    assert o.value > c.value and c.reasons[0] == "eyes closed"
    assert len(o.faces) == 1 and o.faces[0].eyes_open > 0.5


def test_no_face_frame_gets_a_reason_and_no_boxes(fused):
    s = fused.score(np.full((480, 640, 3), 90, np.uint8))
    assert "no face" in s.reasons and "blurry" in s.reasons and s.faces == ()
    assert np.isfinite(s.value)


def _models_copy(tmp_path: Path) -> Path:
    for p in MODELS_DIR.glob("*.onnx"):
        if p.name != "ranker.onnx":
            shutil.copy(p, tmp_path / p.name)
    return tmp_path


def test_missing_weights_is_a_scorer_error_naming_the_file(tmp_path):
    d = _models_copy(tmp_path)
    with pytest.raises(ScorerError, match="fused.json"):
        FusedScorer(d)


ZERO_SCALE = '{"sets": [{"features": ["eyes_open"], "mean": [0], "scale": [0], "weights": [1]}]}'
SHORT = '{"sets": [{"features": ["eyes_open"], "mean": [0, 1], "scale": [1], "weights": [1]}]}'


@pytest.mark.parametrize("text", ["{not json", "[]", '{"sets": []}', ZERO_SCALE, SHORT])
def test_bad_weights_is_a_scorer_error_naming_the_file(tmp_path, text):
    d = _models_copy(tmp_path)
    (d / WEIGHTS_FILE).write_text(text)
    with pytest.raises(ScorerError, match="fused.json"):
        FusedScorer(d)


def test_falls_back_to_faces_set_without_the_fitted_ranker(tmp_path):
    d = _models_copy(tmp_path)
    faces_set = {"name": "faces", "features": ["eyes_open"], "mean": [0.5], "scale": [0.1], "weights": [1.0]}
    ranker_set = {"name": "with_ranker", "ranker": "ranker.onnx", "ranker_sha256": "0" * 64,
                  "features": ["eyes_open", "latent_1"], "mean": [0, 0], "scale": [1, 1], "weights": [1, 1]}
    (d / WEIGHTS_FILE).write_text(json.dumps({"sets": [ranker_set, faces_set]}))
    s = FusedScorer(d)
    assert s.set_name == "faces" and s.ranker is None
    (d / WEIGHTS_FILE).write_text(json.dumps({"sets": [ranker_set]}))
    with pytest.raises(ScorerError, match="no usable weight set"):
        FusedScorer(d)


def test_shipped_weights_load():
    sets = load_weights(MODELS_DIR / WEIGHTS_FILE)
    names = [s["name"] for s in sets]
    assert names[-1] == "faces"  # the set that needs no ranker comes last, as the fallback
    eyes = sets[-1]["features"].index("eyes_open")
    assert sets[-1]["weights"][eyes] > 0


# ---------------------------------------------------------------- fitting (numpy)

def test_logistic_fit_recovers_the_preference_direction():
    rng = np.random.default_rng(0)
    d = rng.normal(size=(2000, 3))
    true = np.array([2.0, -1.0, 0.0])
    keep = rng.random(2000) < 1 / (1 + np.exp(-d @ true))
    d = np.where(keep[:, None], d, -d)  # every row: the preferred minus the other
    v = fuse.fit_logistic(d, np.ones(len(d)), l2=1.0)
    assert v[0] > 1.5 and v[1] < -0.5 and abs(v[2]) < 0.3
    # a huge penalty keeps the weights at the prior
    prior = np.array([0.3, 0.2, 0.1])
    assert np.allclose(fuse.fit_logistic(d, np.ones(len(d)), l2=1e9, prior=prior), prior, atol=1e-3)


def _burst(bid, eyes, grades):
    attrs = [{f: 0.5 for f in fuse.FACE_FEATURES} | {"eyes_open": e} for e in eyes]
    pairs = [(a, b, 2) for a in range(len(grades)) for b in range(len(grades)) if grades[a] > grades[b]]
    return fuse.BurstFeatures(bid, fuse.person_of(bid), [f"f{i}" for i in range(len(eyes))], attrs, pairs)


def test_leave_one_person_out_learns_eyes_open():
    rng = np.random.default_rng(1)
    bursts = []
    for person in ("ann", "bob", "cy"):
        for k in (1, 2):
            eyes = rng.random(6)
            bursts.append(_burst(f"{person}_{k}", eyes, eyes + 0.01 * rng.random(6)))
    assert fuse.person_of("lp_d9_12") == fuse.person_of("lp_d9_t3") == "lp_d9"
    m = fuse.lopo(bursts[:2], bursts[2:], [], ("eyes_open", "smile"), {"l2": 1.0, "label_weight": "flat",
                                                                        "synthetic": 0.0}, ["bob", "cy"])
    assert m["pairwise"] == 1.0 and m["top1"] == 1.0


def test_write_json_is_atomic_and_readable(tmp_path):
    p = tmp_path / "w.json"
    fuse.write_json(p, {"a": 1})
    assert json.loads(p.read_text()) == {"a": 1}
    assert [x.name for x in tmp_path.iterdir()] == ["w.json"]
