"""OnnxRankerScorer: reads the model's metadata, refuses bad files with one line naming the file,
and the shipped models/ranker.onnx is the app's ranker."""
from __future__ import annotations

import json

import numpy as np
import pytest

from viewfinder.scoring import MODELS_DIR, make_scorer
from viewfinder.scoring.base import Scorer, ScorerError
from viewfinder.scoring.onnx_ranker import OnnxRankerScorer

SHIPPED = MODELS_DIR / "ranker.onnx"


def meta(h=16, w=16, names=("latent_1", "latent_2", "latent_3"), **kw):
    m = {"format": "viewfinder-ranker/1", "version": "t1", "backbone": "none", "head": "C",
         "attribute_names": list(names), "input_size": [h, w], "mean": [0.0] * 3,
         "std": [1.0] * 3, "channel_order": "RGB"}
    m.update(kw)
    return m


def tiny_onnx(path, h=16, w=16, n_attr=3, metadata=None):
    """A hand-built model: score = mean of the input, attributes = per-channel means (padded)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    nodes = [helper.make_node("ReduceMean", ["image"], ["score4"], axes=[1, 2, 3], keepdims=0),
             helper.make_node("Identity", ["score4"], ["score"]),
             helper.make_node("ReduceMean", ["image"], ["chan"], axes=[2, 3], keepdims=0)]
    if n_attr == 3:
        nodes.append(helper.make_node("Identity", ["chan"], ["attributes"]))
    else:
        nodes.append(helper.make_node("Slice", ["chan", "st", "en", "ax"], ["attributes"]))
    inits = [helper.make_tensor("st", TensorProto.INT64, [1], [0]),
             helper.make_tensor("en", TensorProto.INT64, [1], [n_attr]),
             helper.make_tensor("ax", TensorProto.INT64, [1], [1])] if n_attr != 3 else []
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, h, w])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_value_info("attributes", TensorProto.FLOAT, ["N", n_attr])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if metadata is not None:
        p = model.metadata_props.add()
        p.key, p.value = "viewfinder", metadata if isinstance(metadata, str) else json.dumps(metadata)
    onnx.save(model, str(path))
    return path


def test_scores_with_the_models_own_preprocessing(tmp_path):
    scorer = OnnxRankerScorer(tiny_onnx(tmp_path / "m.onnx", metadata=meta()))
    assert isinstance(scorer, Scorer)
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[..., 2] = 255  # BGR red -> RGB channel 0
    s = scorer.score(frame)
    assert s.value == pytest.approx(1 / 3, abs=1e-5)  # mean over RGB of (1, 0, 0)
    assert dict(s.attributes) == pytest.approx({"latent_1": 1.0, "latent_2": 0.0, "latent_3": 0.0})
    assert scorer.attribute_names == ("latent_1", "latent_2", "latent_3") and scorer.version == "t1"
    batch = scorer.score_batch([frame, frame * 0])
    assert [b.value for b in batch] == pytest.approx([1 / 3, 0.0], abs=1e-5)


def test_missing_file(tmp_path):
    with pytest.raises(ScorerError, match="not found.*nope.onnx"):
        OnnxRankerScorer(tmp_path / "nope.onnx")


def test_truncated_file(tmp_path):
    good = tiny_onnx(tmp_path / "m.onnx", metadata=meta()).read_bytes()
    (tmp_path / "cut.onnx").write_bytes(good[: len(good) // 2])
    with pytest.raises(ScorerError, match="cut.onnx"):
        OnnxRankerScorer(tmp_path / "cut.onnx")
    (tmp_path / "text.onnx").write_text("not a model")
    with pytest.raises(ScorerError, match="text.onnx"):
        OnnxRankerScorer(tmp_path / "text.onnx")


def test_input_shape_that_does_not_match_the_metadata(tmp_path):
    path = tiny_onnx(tmp_path / "wrong.onnx", h=16, w=16, metadata=meta(h=32, w=32))
    with pytest.raises(ScorerError, match="wrong.onnx.*input shape"):
        OnnxRankerScorer(path)


def test_attribute_count_that_does_not_match_the_metadata(tmp_path):
    path = tiny_onnx(tmp_path / "attrs.onnx", n_attr=2, metadata=meta())
    with pytest.raises(ScorerError, match="attrs.onnx.*2 attribute outputs"):
        OnnxRankerScorer(path)


@pytest.mark.parametrize("bad, message", [
    (None, "no 'viewfinder' metadata"),
    ("{not json", "not valid JSON"),
    (meta(format="other/9"), "format"),
    (meta(names=()), "attribute_names"),
    (meta(std=[0, 1, 1]), "bad input metadata|std"),
    ({k: v for k, v in meta().items() if k != "input_size"}, "input_size"),
])
def test_bad_metadata(tmp_path, bad, message):
    path = tiny_onnx(tmp_path / "meta.onnx", metadata=bad)
    with pytest.raises(ScorerError, match=f"meta.onnx.*({message})"):
        OnnxRankerScorer(path)


def test_shipped_ranker_is_the_registered_default():
    assert SHIPPED.is_file(), "models/ranker.onnx is missing: train and export it (docs/training.md)"
    assert SHIPPED.stat().st_size < 1_000_000
    scorer = make_scorer("ranker")
    assert scorer.name == "ranker"
    assert scorer.attribute_names == tuple(f"latent_{i}" for i in range(1, 6))
    s = scorer.score(np.full((720, 1280, 3), 90, np.uint8))
    assert np.isfinite(s.value) and set(s.attributes) == set(scorer.attribute_names)


def test_shipped_ranker_prefers_a_sharp_frame_to_a_shaken_one(dev_data):
    """What a user notices: with the same moment sharp and blurred by camera shake, the sharp
    one wins (on most frames of a real burst)."""
    import cv2

    scorer = OnnxRankerScorer(SHIPPED)
    frames = sorted((dev_data / "bursts-dev" / "bursts").glob("*/frame_05.jpg"))[:8]
    assert frames
    kernel = np.zeros((1, 31), np.float32)
    kernel[0, :] = 1 / 31  # a 31 px horizontal shake
    wins = 0
    for f in frames:
        img = cv2.imread(str(f))
        blurred = cv2.filter2D(img, -1, kernel)
        wins += scorer.score(img).value > scorer.score(blurred).value
    assert wins >= 0.75 * len(frames)
