"""Training side of the face classifiers: export contract, ONNX == torch, and a tiny learnable task."""
import json

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from viewfinder.scoring import MODELS_DIR  # noqa: E402
from viewfinder.scoring import faces as F  # noqa: E402
from viewfinder.training import face_models as T  # noqa: E402


def _toy_eyes(n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """'open' = a dark iris disc; 'closed' = a dark horizontal lid line, on noisy skin."""
    x = np.empty((n, F.EYE_SIZE, F.EYE_SIZE), np.uint8)
    y = (np.arange(n) % 2).astype(np.float32)
    for i in range(n):
        img = rng.normal(170, 12, (F.EYE_SIZE, F.EYE_SIZE)).clip(0, 255).astype(np.uint8)
        c = (12 + int(rng.integers(-2, 3)), 12 + int(rng.integers(-2, 3)))
        if y[i]:
            cv2.circle(img, c, int(rng.integers(3, 6)), 40, -1)
        else:
            cv2.line(img, (c[0] - 8, c[1]), (c[0] + 8, c[1]), 50, 2)
        x[i] = img
    return x, y


def test_export_matches_torch_and_carries_its_contract(tmp_path):
    cfg = T.TrainConfig("eyes_open", F.EYE_SIZE, F.EYE_CROP_SCALE, (4, 8), epochs=1)
    model = T.TinyCNN(cfg.widths).eval()
    out = tmp_path / "eyes.onnx"
    T.export(model, cfg, out)
    m = onnx.load(str(out))
    onnx.checker.check_model(m)
    meta = json.loads({p.key: p.value for p in m.metadata_props}["viewfinder"])
    assert meta["task"] == "eyes_open" and meta["input_size"] == F.EYE_SIZE
    assert meta["crop_scale"] == F.EYE_CROP_SCALE
    x = F.normalise_patches(np.random.default_rng(0).integers(0, 256, (5, 24, 24), dtype=np.uint8))
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"patch": x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == ["eyes.onnx"]  # no temp file left


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: extra threads only contend on a shared CI machine
    yield
    torch.set_num_threads(n)


def test_training_learns_a_toy_eye_task(one_thread):
    rng = np.random.default_rng(0)
    x, y = _toy_eyes(256, rng)
    cfg = T.TrainConfig("eyes_open", F.EYE_SIZE, F.EYE_CROP_SCALE, (8, 16), epochs=8, batch=32, lr=1e-2)
    model = T.train(cfg, x, y, log=lambda s: None)
    xt, yt = _toy_eyes(100, np.random.default_rng(1))
    assert T.evaluate(T.predict(model, xt), yt)["accuracy"] > 0.9


def test_confusion_matrix_rows_are_truth():
    r = T.evaluate(np.array([0.9, 0.2, 0.8, 0.7]), np.array([1, 0, 0, 1], np.float32))
    assert r["accuracy"] == 0.75
    assert r["confusion"]["rows_true_cols_pred_0_1"] == [[1, 1], [0, 2]]


def test_group_split_keeps_both_eyes_of_a_face_together():
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"])
    test = T.group_split(groups, 0.4, seed=0)
    assert test.sum() == 4
    for g in np.unique(groups):
        assert len(set(test[groups == g])) == 1


def test_shipped_classifiers_are_tiny_and_self_describing():
    for name, task in ((F.EYES_FILE, "eyes_open"), (F.SMILE_FILE, "smile")):
        path = MODELS_DIR / name
        assert path.stat().st_size < 1_000_000
        meta = json.loads(ort.InferenceSession(str(path)).get_modelmeta().custom_metadata_map["viewfinder"])
        assert meta["task"] == task and meta["held_out"]["accuracy"] > 0.85


def test_smile_crops_from_genki_style_faces_use_the_runtime_crop():
    """A synthetic face shrunk to a 64x64 GENKI-like crop is found and re-cut by landmarks."""
    img = cv2.imread(str(MODELS_DIR.parent / "tests" / "fixtures" / "faces" / "synthetic_open.jpg"))
    h, w = img.shape[:2]
    face = cv2.resize(img[h // 5:h * 4 // 5, w // 5:w * 4 // 5], (64, 64), interpolation=cv2.INTER_AREA)
    lm = T.genki_landmarks(face, T._detector(MODELS_DIR / F.DETECTOR_FILE))
    assert lm is not None and lm.shape == (5, 2)
    assert (lm > 0).all() and (lm < 64).all()
    assert lm[0, 0] < lm[1, 0] and lm[2, 1] < lm[3, 1]  # eyes left to right, nose above the mouth


def test_eyes_data_loader_on_cew(dev_data):
    x, y, groups = T.load_eyes(dev_data / "eyes")
    assert x.shape[1:] == (24, 24) and len(x) == len(y) == len(groups) > 4000
    assert 0.4 < y.mean() < 0.6


def test_pair_training_learns_which_frame_people_prefer(one_thread):
    """Toy face-pair task: in every burst the 'open' patches were graded above the 'closed' ones."""
    rng = np.random.default_rng(0)
    bursts = []
    for k in range(12):
        x, y = _toy_eyes(8, rng)
        pairs = [(a, b) for a in range(8) for b in range(8) if y[a] > y[b]]
        bursts.append({"id": f"p{k % 3}_{k}", "person": f"p{k % 3}", "x": x, "pairs": pairs})
    cfg = T.TrainConfig("face_pairs", F.EYE_SIZE, 1.0, (8, 16), epochs=10, lr=1e-2)
    model = T.train_pairs(cfg, bursts)
    xt, yt = _toy_eyes(40, np.random.default_rng(1))
    s = T.predict_logits(model, xt)
    assert s[yt == 1].mean() > s[yt == 0].mean()
    assert (s[yt == 1][:, None] > s[yt == 0][None, :]).mean() > 0.9
