"""Fault injection on scorers: a model that cannot be loaded, a scorer that throws on a frame."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from viewfinder import scoring
from viewfinder.frames import Burst, Frame, Score
from viewfinder.ranking import rank
from viewfinder.scoring.guarded import GuardedScorer, load_scorer_or_fallback
from viewfinder.scoring.sharpness import SharpnessScorer
from viewfinder.storage import save_best

REPO = Path(__file__).resolve().parent.parent


def frames(n: int) -> list[Frame]:
    rng = np.random.default_rng(0)
    return [Frame(index=i, t_ns=i * 100_000_000,
                  pixels=rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)) for i in range(n)]


class FlakyScorer:
    """Throws on the frames whose first pixel is in `bad`; other frames score their index."""

    name, version, attribute_names = "flaky", "3", ("x",)

    def __init__(self, outputs):
        self.outputs = outputs  # index -> what to do

    def score(self, pixels):
        what = self.outputs.get(int(pixels[0, 0, 0]), "ok")
        if what == "raise":
            raise RuntimeError("CUDA error: an illegal memory access\nsecond line")
        if what == "nan":
            return Score(value=math.nan)
        if what == "junk":
            return 0.5
        return Score(value=float(pixels[0, 0, 0]), attributes={"x": 1.0})


def test_a_scorer_that_throws_on_one_frame_leaves_it_unscored_and_the_rest_go_on(tmp_path):
    fs = frames(6)
    for i, f in enumerate(fs):
        f.pixels[0, 0, 0] = 10 + i
    guarded = GuardedScorer(FlakyScorer({15: "raise", 11: "nan", 12: "junk"}))
    scores = [guarded.score(f.pixels) for f in fs]
    assert [s is None for s in scores] == [False, True, True, False, False, True]
    assert guarded.failures == 3 and guarded.scored == 3
    assert guarded.last_error.startswith("scorer flaky failed: RuntimeError: CUDA error")
    assert "\n" not in guarded.last_error
    burst = Burst(tuple(fs), shutter_pos=3, press_t_ns=fs[3].t_ns)
    ranking = rank(burst, scores)
    assert [rf.pos for rf in ranking.frames][:3] == [4, 3, 0]  # scored frames first, by score
    assert all(rf.score is None for rf in ranking.frames[3:])
    saved = save_best(fs[ranking.best.pos], ranking, burst, folder=tmp_path,
                      scorer_name=guarded.name, scorer_version=guarded.version)
    side = json.loads(saved.sidecar.read_text())
    assert [f["score"] for f in side["burst"]["frames"]] == [10.0, None, None, 13.0, 14.0, None]


def test_a_scorer_that_fails_on_every_frame_still_gives_a_ranking():
    fs = frames(3)
    guarded = GuardedScorer(FlakyScorer({int(f.pixels[0, 0, 0]): "raise" for f in fs}))
    scores = [guarded.score(f.pixels) for f in fs]
    assert scores == [None] * 3 and guarded.failures == 3
    burst = Burst(tuple(fs), shutter_pos=1, press_t_ns=0)
    assert rank(burst, scores).best.pos == 1  # nothing scored: the press frame wins


def test_guarded_scorer_keeps_the_inner_identity():
    g = GuardedScorer(SharpnessScorer())
    assert (g.name, g.version, g.attribute_names) == ("sharpness", "1", ("sharpness",))
    assert g.score(frames(1)[0].pixels).value > 0 and g.failures == 0


def _onnx_with_metadata(path: Path, meta: dict | None, size=(8, 8)) -> Path:
    """An identity-ish model: image (N,3,h,w) -> score (N,), attributes (N,2)."""
    onnx = pytest.importorskip("onnx")  # only the `train` extra installs it
    from onnx import TensorProto, helper

    h, w = size
    inp = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, h, w])
    score = helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])
    attrs = helper.make_tensor_value_info("attributes", TensorProto.FLOAT, ["N", 2])
    axes = helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3])
    nodes = [helper.make_node("ReduceMean", ["image", "axes"], ["score"], keepdims=0),
             helper.make_node("ReduceMean", ["image", "axes"], ["m"], keepdims=1),
             helper.make_node("Reshape", ["m", "shape"], ["m2"]),
             helper.make_node("Concat", ["m2", "m2"], ["attributes"], axis=1)]
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1])
    graph = helper.make_graph(nodes, "g", [inp], [score, attrs], initializer=[axes, shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    if meta is not None:
        entry = model.metadata_props.add()
        entry.key, entry.value = "viewfinder", json.dumps(meta)
    onnx.save(model, path)
    return path


GOOD_META = {"format": "viewfinder-ranker/1", "attribute_names": ["a", "b"], "input_size": [8, 8],
             "mean": [0, 0, 0], "std": [1, 1, 1], "channel_order": "RGB", "version": "t"}


def _bad_model(tmp: Path, case: str) -> Path:
    if case == "missing":
        return tmp / "missing.onnx"
    if case == "zero bytes":
        (tmp / "zero.onnx").write_bytes(b"")
        return tmp / "zero.onnx"
    if case == "not a model":
        (tmp / "text.onnx").write_text("hello, I am not protobuf\n" * 20)
        return tmp / "text.onnx"
    if case == "wrong model":
        return REPO / "models" / "eyes.onnx"
    if case == "truncated":
        real = _onnx_with_metadata(tmp / "real.onnx", GOOD_META).read_bytes()
        (tmp / "truncated.onnx").write_bytes(real[: len(real) // 2])
        return tmp / "truncated.onnx"
    meta = {"no metadata": None,
            "metadata size mismatch": {**GOOD_META, "input_size": [16, 16]},
            "attributes mismatch": {**GOOD_META, "attribute_names": ["a", "b", "c"]}}[case]
    return _onnx_with_metadata(tmp / "bad.onnx", meta)


CASES = ["missing", "zero bytes", "truncated", "not a model", "no metadata",
         "metadata size mismatch", "attributes mismatch", "wrong model"]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_model_file_falls_back_to_sharpness_with_a_message_naming_it(tmp_path, case):
    path = _bad_model(tmp_path, case)
    if case == "wrong model" and not path.is_file():
        pytest.skip("models/eyes.onnx is not in this checkout")
    scorer, warning = load_scorer_or_fallback(str(path))
    assert scorer.name == "sharpness"
    assert warning and path.name in warning and "sharpness" in warning
    assert "\n" not in warning and "Traceback" not in warning
    assert scorer.score(frames(1)[0].pixels).value > 0  # the app goes on scoring


def test_a_good_model_loads_without_a_warning(tmp_path):
    path = _onnx_with_metadata(tmp_path / "ok.onnx", GOOD_META)
    scorer, warning = load_scorer_or_fallback(str(path))
    assert warning is None and scorer.name != "sharpness"
    assert math.isfinite(scorer.score(frames(1)[0].pixels).value)


def test_unknown_names_and_crashing_factories_fall_back_too(monkeypatch):
    scorer, warning = load_scorer_or_fallback("nonsense")
    assert scorer.name == "sharpness" and "nonsense" in warning

    def explode():
        raise MemoryError("out of memory loading weights")

    monkeypatch.setitem(scoring._FACTORIES, "bigmodel", explode)
    scorer, warning = load_scorer_or_fallback("bigmodel")
    assert scorer.name == "sharpness" and "bigmodel" in warning and "MemoryError" in warning
    assert load_scorer_or_fallback("sharpness")[1] is None
