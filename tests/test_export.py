"""Export: ONNX with metadata, dynamic batch, checked against torch; read back by the app's scorer."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from viewfinder.preprocess import InputSpec, preprocess  # noqa: E402
from viewfinder.scoring.onnx_ranker import OnnxRankerScorer  # noqa: E402
from viewfinder.training.export import ExportError, export  # noqa: E402
from viewfinder.training.model import BaselinePairwise, ModelConfig, Ranker  # noqa: E402
from viewfinder.training.train import TrainConfig, save_atomic  # noqa: E402


def checkpoint(tmp_path, model_cfg: ModelConfig):
    torch.manual_seed(0)
    cls = BaselinePairwise if model_cfg.head == "baseline" else Ranker
    model = cls(model_cfg)
    if model_cfg.head != "baseline":
        model.train()
        with torch.no_grad():  # running BatchNorm statistics that are not the identity
            model(torch.randn(8, 3, model_cfg.height, model_cfg.width))
    path = tmp_path / "final.pt"
    save_atomic({"config": TrainConfig(model=model_cfg).to_dict(), "model": model.state_dict(),
                 "step": 7}, path)
    return model.eval(), path


@pytest.mark.parametrize("head", ["C", "A"])
def test_onnxruntime_matches_torch_with_a_dynamic_batch(tmp_path, head):
    cfg = ModelConfig("sqnet4", head, 5, 64, 64)
    model, ck = checkpoint(tmp_path, cfg)
    out = tmp_path / "m.onnx"
    meta = export(ck, out)
    onnx.checker.check_model(onnx.load(str(out)))
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        x = torch.randn(n, 3, 64, 64)
        with torch.no_grad():
            ts, ta = model(x)
        os_, oa = sess.run(["score", "attributes"], {"image": x.numpy()})
        assert os_.shape == (n,) and oa.shape == (n, len(meta["attribute_names"]))
        assert np.allclose(os_, ts.numpy(), atol=1e-4) and np.allclose(oa, ta.numpy(), atol=1e-4)


def test_metadata_carries_the_contract_and_the_scorer_uses_it(tmp_path):
    cfg = ModelConfig("sqnet6", "C", 3, 48, 64)
    model, ck = checkpoint(tmp_path, cfg)
    out = tmp_path / "m.onnx"
    export(ck, out, version="test-1")
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    meta = json.loads(props["viewfinder"])
    assert meta["input_size"] == [48, 64] and meta["channel_order"] == "RGB"
    assert meta["attribute_names"] == ["latent_1", "latent_2", "latent_3"]
    assert (meta["version"], meta["backbone"], meta["head"]) == ("test-1", "sqnet6", "C")
    scorer = OnnxRankerScorer(out)
    frame = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    s = scorer.score(frame)
    with torch.no_grad():
        ts, ta = model(torch.from_numpy(preprocess(frame, InputSpec(48, 64)))[None])
    assert s.value == pytest.approx(float(ts[0]), abs=1e-4)
    assert list(s.attributes) == meta["attribute_names"]
    assert np.allclose(list(s.attributes.values()), ta[0].numpy(), atol=1e-4)
    assert scorer.version == "test-1"


def test_export_refuses_the_pairwise_baseline_and_missing_checkpoints(tmp_path):
    _, ck = checkpoint(tmp_path, ModelConfig("sqnet6", "baseline", 5, 32, 32))
    with pytest.raises(ExportError, match="baseline"):
        export(ck, tmp_path / "b.onnx")
    with pytest.raises(ExportError, match="not found"):
        export(tmp_path / "nope.pt", tmp_path / "c.onnx")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ExportError, match="junk.pt"):
        export(tmp_path / "junk.pt", tmp_path / "c.onnx")
    assert not (tmp_path / "b.onnx").exists() and not (tmp_path / "c.onnx").exists()
