"""The synthetic scene: deterministic, and its ground truth is what the pixels show."""
import cv2
import numpy as np
import pytest

from viewfinder.camera import SourceError, SyntheticSource, open_source
from viewfinder.scoring.sharpness import SharpnessScorer

SIZE = (640, 360)  # half resolution keeps the tests fast; geometry scales with the height
N = 1800  # one simulated minute at 30 fps
BIG_BLUR = 4.0  # px at 360p (8 px at 720p)


def lap_var(img):
    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_32F).var())


def crop(img, box, pad=0):
    x, y, w, h = box
    return img[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]


@pytest.fixture(scope="module")
def scene():
    return SyntheticSource(seed=0, size=SIZE)


@pytest.fixture(scope="module")
def truths(scene):
    return [scene.truth_at(i) for i in range(N)]


def test_same_seed_same_frames_other_seed_other_frames():
    a, b, c = (SyntheticSource(seed=s, size=SIZE) for s in (5, 5, 6))
    for i in (0, 77, 1234):
        assert np.array_equal(a.render(i), b.render(i))
        assert a.truth_at(i) == b.truth_at(i)
    assert not np.array_equal(a.render(77), c.render(77))


def test_stream_times_indices_and_truth():
    src = SyntheticSource(seed=1, size=SIZE, fps=30.0, length=5)
    with pytest.raises(SourceError):
        src.read()
    src.open()
    frames = [src.read() for _ in range(5)]
    assert src.read() is None
    src.close()
    src.close()  # idempotent
    assert [f.index for f in frames] == list(range(5))
    assert [f.t_ns for f in frames] == [round(i * 1e9 / 30) for i in range(5)]
    for f in frames:
        assert f.pixels.shape == (360, 640, 3) and f.pixels.dtype == np.uint8
        assert f.truth == src.truth_at(f.index)
        assert set(f.truth) == {"eyes_closed", "blur", "head_turn", "good"}
    assert src.live and not src.is_camera


def test_scene_has_every_kind_of_frame(truths):
    kinds = {
        "good": [t for t in truths if t["good"]],
        "closed": [t for t in truths if t["eyes_closed"]],
        "blurred": [t for t in truths if t["blur"] > BIG_BLUR],
        "turned": [t for t in truths if t["head_turn"] > 0.5],
    }
    for name, ts in kinds.items():
        assert len(ts) > N // 50, name
    # a blink every couple of seconds, each three stream frames long
    assert 0.03 < len(kinds["closed"]) / N < 0.1
    assert all(not t["good"] for t in kinds["closed"] + kinds["blurred"] + kinds["turned"])


def _still_neighbour(truths, i, exclude_closed=True):
    for d in range(3, 60):
        for j in (i - d, i + d):
            if 0 <= j < len(truths):
                t = truths[j]
                still = t["blur"] < 1 and t["head_turn"] == 0
                if still and not (exclude_closed and t["eyes_closed"]):
                    return j
    raise AssertionError(f"no still frame near {i}")


def test_face_blur_in_truth_is_real_blur_on_the_face(scene, truths):
    checked = 0
    for i, t in enumerate(truths):
        st = scene._state(i)
        if checked < 3 and st["face_blur"] > BIG_BLUR and st["cam_blur"] < 1 and not t["head_turn"]:
            j = _still_neighbour(truths, i)
            moving = crop(scene.render(i), scene.face_box_at(i))
            still = crop(scene.render(j), scene.face_box_at(j))
            assert lap_var(moving) < 0.7 * lap_var(still), (i, j)
            checked += 1
    assert checked == 3


def test_camera_shake_blurs_the_whole_frame(scene, truths):
    checked = 0
    for i in range(len(truths)):
        st = scene._state(i)
        if st["cam_blur"] > BIG_BLUR and checked < 3:
            j = _still_neighbour(truths, i)
            assert lap_var(scene.render(i)) < 0.7 * lap_var(scene.render(j)), (i, j)
            checked += 1
    assert checked == 3


def _eye_box(scene, i):
    x, y, w, h = scene.face_box_at(i)
    return (x + w // 8, y + int(h * 0.28), w * 3 // 4, int(h * 0.22))


def test_closed_eyes_change_the_eye_region_only(scene, truths):
    checked = 0
    for i, t in enumerate(truths):
        if t["eyes_closed"] and t["blur"] < 1 and t["head_turn"] == 0 and checked < 3:
            j = next(j for j in range(i - 1, i - 8, -1)
                     if not truths[j]["eyes_closed"])
            if truths[j]["blur"] > 1 or truths[j]["head_turn"]:
                continue
            a, b = scene.render(i).astype(int), scene.render(j).astype(int)
            eyes = crop(np.abs(a - b), _eye_box(scene, i))
            x, y, w, h = scene.face_box_at(i)
            mouth = np.abs(a - b)[y + int(h * 0.7):y + h, x:x + w]
            assert eyes.mean() > 5 * max(mouth.mean(), 0.5), (i, j)
            checked += 1
    assert checked == 3


def test_head_turn_narrows_the_face(scene, truths):
    i = next(i for i, t in enumerate(truths) if t["head_turn"] > 0.6)
    j = _still_neighbour(truths, i)
    assert scene.face_box_at(i)[2] < 0.95 * scene.face_box_at(j)[2]


def _bursts(truths, n=11, step=3):
    for start in range(0, len(truths) - n * step, 37):
        yield list(range(start, start + n * step, step))


def test_sharpness_baseline_picks_a_sharp_frame_where_blur_varies(scene, truths):
    scorer = SharpnessScorer()
    tried = 0
    for idx in _bursts(truths):
        blur = [truths[i]["blur"] for i in idx]
        if max(blur) > BIG_BLUR and min(blur) < scene.good_max_blur and tried < 6:
            values = [scorer.score(scene.render(i)).value for i in idx]
            assert blur[int(np.argmax(values))] < scene.good_max_blur, idx
            tried += 1
    assert tried == 6


def test_some_bursts_have_closed_eyes_as_sharp_as_open_ones(scene, truths):
    """The case the sharpness baseline cannot solve and a face-aware scorer must."""
    scorer = SharpnessScorer()
    found = 0
    for idx in _bursts(truths):
        ts = [truths[i] for i in idx]
        if any(t["eyes_closed"] for t in ts) and all(t["blur"] < 1.5 for t in ts):
            values = {i: scorer.score(scene.render(i)).value for i in idx}
            closed = [values[i] for i in idx if truths[i]["eyes_closed"]]
            opened = [values[i] for i in idx if not truths[i]["eyes_closed"]]
            spread = max(opened) - min(opened)
            assert abs(closed[0] - np.median(opened)) < max(0.1, 2 * spread)
            found += 1
    assert found >= 3


def test_size_and_seed_from_the_spec():
    src = open_source("synthetic:7:320x240")
    assert isinstance(src, SyntheticSource) and src.seed == 7 and src.size == (320, 240)
    assert open_source("synthetic", seed=3).seed == 3
    assert "seed 3" in open_source("synthetic:3").name
    for bad in ("synthetic:x", "synthetic:-1", "synthetic:1:10x10", "synthetic:1:big"):
        with pytest.raises(SourceError, match="synthetic"):
            open_source(bad)


def test_a_real_face_detector_finds_the_face(dev_data):
    model = dev_data / "facedet" / "yunet_s_640_640.onnx"
    if not model.is_file():
        pytest.skip(f"{model} not found")
    det = cv2.FaceDetectorYN.create(str(model), "", (320, 320), 0.6)
    for seed in (0, 1, 2):
        src = SyntheticSource(seed=seed, size=SIZE)
        for i in (0, 300, 900):
            img = src.render(i)
            det.setInputSize(SIZE)
            _, faces = det.detect(img)
            assert faces is not None and len(faces) >= 1, (seed, i)
            x, y, w, h = faces[0][:4]
            fx, fy, fw, fh = src.face_box_at(i)
            assert abs((x + w / 2) - (fx + fw / 2)) < fw / 3
            assert abs((y + h / 2) - (fy + fh / 2)) < fh / 2
