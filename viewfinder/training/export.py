"""Export a trained ranker checkpoint to ONNX for the app (onnxruntime only at run time).

torch only. Eval mode, BatchNorm folded into the convs, named input "image" (N, 3, H, W)
float32, outputs "score" (N,) and "attributes" (N, C'), dynamic batch, onnx.checker, and the
model's contract as JSON in metadata_props["viewfinder"] (read by viewfinder.scoring.onnx_ranker).
The file is written atomically and checked against torch with onnxruntime before it replaces
the target.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from viewfinder.training.model import Ranker, count_flops, fuse_batchnorm
from viewfinder.training.train import load_model

METADATA_KEY = "viewfinder"
FORMAT = "viewfinder-ranker/1"


class ExportError(RuntimeError):
    """Export failed (bad checkpoint, parity check failed); one line naming the file."""


class _Outputs(torch.nn.Module):
    def __init__(self, model: Ranker):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model(image)


def metadata(model: Ranker, cfg, version: str) -> dict:
    m = cfg.model
    return {"format": FORMAT, "version": version, "backbone": m.backbone, "head": m.head,
            "attribute_names": list(m.attribute_names), **cfg.spec.to_metadata(),
            "flops": count_flops(m),  # 2 x multiply-adds of one frame (the paper counts MACs)
            "parameters": sum(p.numel() for p in fuse_batchnorm(model).parameters()),
            "outputs": {"score": "(N,) higher is better, comparable within a burst",
                        "attributes": f"(N, {len(m.attribute_names)}) latent attributes (head C)"}}


def export(checkpoint: Path, out: Path, *, version: str | None = None, atol: float = 1e-4) -> dict:
    """Write `out` (.onnx) from a checkpoint; returns the metadata. Raises ExportError."""
    checkpoint, out = Path(checkpoint), Path(out)
    if not checkpoint.is_file():
        raise ExportError(f"checkpoint not found: {checkpoint}")
    try:
        model, cfg, ck = load_model(checkpoint)
    except Exception as e:  # noqa: BLE001 - any unreadable checkpoint gets one line
        raise ExportError(f"cannot load checkpoint {checkpoint}: {e}") from None
    if not isinstance(model, Ranker):
        raise ExportError(f"{checkpoint}: the pairwise baseline needs two images; only single-frame "
                          "rankers (heads A, B, C) can be exported")
    version = version or f"{cfg.model.backbone}-{cfg.model.head}-step{ck.get('step', 0)}"
    fused = fuse_batchnorm(model)
    h, w = cfg.model.height, cfg.model.width
    example = torch.zeros(2, 3, h, w)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Outputs(fused), (example,), str(tmp), input_names=["image"],
                          output_names=["score", "attributes"], opset_version=17,
                          dynamic_axes={"image": {0: "N"}, "score": {0: "N"}, "attributes": {0: "N"}},
                          dynamo=False)
    proto = onnx.load(str(tmp))
    meta = metadata(model, cfg, version)
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(meta)
    proto.producer_name = "viewfinder"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(tmp))
    try:
        check_parity(model, tmp, atol)
    except ExportError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    return meta


def check_parity(model: Ranker, onnx_path: Path, atol: float = 1e-4) -> float:
    """Max |onnxruntime - torch| on random inputs; raises ExportError above `atol`."""
    import onnxruntime as ort  # noqa: PLC0415

    h, w = model.cfg.height, model.cfg.width
    x = torch.randn(3, 3, h, w, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ts, ta = (t.numpy() for t in model.eval()(x))
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    os_, oa = sess.run(["score", "attributes"], {"image": x.numpy()})
    err = float(max(np.abs(os_ - ts).max(), np.abs(oa - ta).max()))
    if err > atol:
        raise ExportError(f"{onnx_path}: onnxruntime differs from torch by {err:.2e} (> {atol})")
    return err
