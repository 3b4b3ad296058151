"""Train and export the two tiny face classifiers: eye state (CEW) and smile (GENKI-4K).

Training side of viewfinder/scoring/faces.py; torch only here. The crops and the input
normalisation are imported from the scorer module, so training and run time cannot drift:
- eyes: CEW 24x24 grey eye patches (tight eye crops). At run time faces.eye_crops() cuts
  EYE_CROP_SCALE x inter-ocular distance around each eye landmark, which looks like a CEW patch.
- smile: GENKI-4K 64x64 Haar face crops. Here YuNet is run on each crop (2x upscale, padded) and
  faces.face_crop() re-cuts the face from its landmarks, exactly as at run time. Crops without a
  face and stale duplicate crops (DUPLICATE_CROPS.txt) are dropped.

    python -m viewfinder.training.face_models eyes  --data ../shared/data/eyes   --out models/eyes.onnx
    python -m viewfinder.training.face_models smile --data ../shared/data/smiles --out models/smile.onnx

Each run prints held-out accuracy and the confusion matrix as JSON (and writes it with --report).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from viewfinder.scoring import faces as F

MODEL_VERSION = "1"


@dataclass(frozen=True)
class TrainConfig:
    task: str  # "eyes_open" | "smile"
    input_size: int
    crop_scale: float
    widths: tuple[int, ...]
    epochs: int = 30
    batch: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0


EYES = TrainConfig("eyes_open", F.EYE_SIZE, F.EYE_CROP_SCALE, (16, 32, 48), epochs=30)
# Experiment (not shipped): a score learned from human-graded face pairs of the real bursts.
FACE_PAIRS = TrainConfig("face_pairs", 48, F.FACE_CROP_SCALE, (8, 16, 32, 64), epochs=15, lr=2e-3,
                         weight_decay=1e-3)
SMILE = TrainConfig("smile", F.FACE_SIZE, F.FACE_CROP_SCALE, (8, 16, 32, 64), epochs=20)


class TinyCNN(nn.Module):
    """conv-bn-relu-pool blocks, global average pool, one logit. (N, 1, S, S) -> (N, 1)."""

    def __init__(self, widths: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = []
        c = 1
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).mean(dim=(2, 3))  # (N, C)
        return self.head(self.drop(f))  # (N, 1)


# ---------------------------------------------------------------- data

def load_eyes(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CEW: (N, 24, 24) uint8, labels (1 open), groups (one per source face: L and R together)."""
    base = Path(root) / "dataset_B_Eye_Images"
    imgs, labels, groups = [], [], []
    for folder, label in (("openLeftEyes", 1), ("openRightEyes", 1),
                          ("closedLeftEyes", 0), ("closedRightEyes", 0)):
        d = base / folder
        if not d.is_dir():
            raise SystemExit(f"error: CEW folder not found: {d}")
        for p in sorted(d.iterdir()):
            img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
            if img is None:
                continue
            imgs.append(cv2.resize(img, (F.EYE_SIZE, F.EYE_SIZE), interpolation=cv2.INTER_AREA))
            labels.append(label)
            groups.append(re.sub(r"_[LR]\.jpg$", "", p.name, flags=re.IGNORECASE))
    return np.stack(imgs), np.array(labels, np.float32), np.array(groups)


def _detector(det_path: Path):
    return cv2.FaceDetectorYN.create(str(det_path), "", (320, 320), 0.5, 0.3, 10)


def genki_landmarks(img: np.ndarray, det) -> np.ndarray | None:
    """YuNet landmarks (5, 2) on a small GENKI crop, in the crop's pixels; None when no face."""
    up, pad = 2, 96
    big = cv2.resize(img, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    det.setInputSize((big.shape[1], big.shape[0]))
    _, rows = det.detect(big)
    if rows is None:
        return None
    r = max(rows, key=lambda r: r[14])
    return (r[4:14].reshape(5, 2).astype(np.float64) - pad) / up


def load_smiles(root: Path, det_path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """GENKI-4K crops64 -> {"train": (X, y), "test": (X, y)}: aligned 64x64 grey face crops."""
    base = Path(root) / "GENKI-4K_crops64"
    dup = base / "DUPLICATE_CROPS.txt"
    if not dup.is_file():
        raise SystemExit(f"error: {dup} not found")
    stale = set()
    for line in dup.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            stale.update(line.split()[1:])  # the first (lowest-numbered) file of a group is kept
    det = _detector(det_path)
    out = {}
    for split in ("train", "test"):
        xs, ys = [], []
        for label in (0, 1):
            d = base / "datasets" / f"{split}_folder" / str(label)
            for p in sorted(d.glob("*.jpg")):
                if f"datasets/{split}_folder/{label}/{p.name}" in stale:
                    continue
                img = cv2.imread(str(p))
                if img is None:
                    continue
                lm = genki_landmarks(img, det)
                if lm is None:
                    continue
                grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
                xs.append(F.face_crop(grey, lm, SMILE.crop_scale, SMILE.input_size))
                ys.append(label)
        out[split] = (np.stack(xs), np.array(ys, np.float32))
    return out


def group_split(groups: np.ndarray, test_frac: float, seed: int) -> np.ndarray:
    """Boolean test mask; all patches of a group fall on the same side."""
    uniq = np.unique(groups)
    rng = np.random.default_rng(seed)
    test_groups = set(rng.choice(uniq, size=round(len(uniq) * test_frac), replace=False))
    return np.array([g in test_groups for g in groups])


# ---------------------------------------------------------------- training

def augment(patches: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random flip, +-10 deg rotation, +-12% scale, +-8% shift, and sometimes a low-res round
    trip (webcam eyes are a few pixels wide)."""
    n, s, _ = patches.shape
    out = np.empty_like(patches)
    for i in range(n):
        p = patches[i]
        if rng.random() < 0.5:
            p = p[:, ::-1]
        m = cv2.getRotationMatrix2D((s / 2, s / 2), rng.uniform(-10, 10), rng.uniform(0.88, 1.12))
        m[:, 2] += rng.uniform(-0.08, 0.08, 2) * s
        p = cv2.warpAffine(np.ascontiguousarray(p), m, (s, s), borderMode=cv2.BORDER_REPLICATE)
        if rng.random() < 0.3:
            k = rng.uniform(0.35, 0.8)
            small = cv2.resize(p, (max(4, round(s * k)),) * 2, interpolation=cv2.INTER_AREA)
            p = cv2.resize(small, (s, s), interpolation=cv2.INTER_LINEAR)
        out[i] = p
    return out


def train(cfg: TrainConfig, x: np.ndarray, y: np.ndarray, log=print) -> TinyCNN:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = TinyCNN(cfg.widths)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * ((len(x) + cfg.batch - 1) // cfg.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(cfg.epochs):
        model.train()
        xa = torch.from_numpy(F.normalise_patches(augment(x, rng)))
        ya = torch.from_numpy(y)[:, None]
        order = torch.from_numpy(rng.permutation(len(x)))
        total = 0.0
        for i in range(0, len(x), cfg.batch):
            idx = order[i:i + cfg.batch]
            loss = loss_fn(model(xa[idx]), ya[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if epoch % 5 == 4 or epoch == cfg.epochs - 1:
            log(f"epoch {epoch + 1}/{cfg.epochs} loss {total / len(x):.4f}")
    model.eval()
    return model


@torch.no_grad()
def predict(model: TinyCNN, x: np.ndarray) -> np.ndarray:
    model.eval()
    return torch.sigmoid(model(torch.from_numpy(F.normalise_patches(x)))).numpy().reshape(-1)


def evaluate(p: np.ndarray, y: np.ndarray) -> dict:
    pred = (p >= 0.5).astype(int)
    t = y.astype(int)
    cm = [[int(((t == a) & (pred == b)).sum()) for b in (0, 1)] for a in (0, 1)]
    return {"n": int(len(y)), "accuracy": float((pred == t).mean()),
            "confusion": {"rows_true_cols_pred_0_1": cm}}


# ---------------------------------------------------------------- face pairs (experiment)

def load_burst_faces(root: Path, analyzer: F.FaceAnalyzer, size: int) -> list[dict]:
    """Aligned grey face crops of every graded burst, its non-equal pairs (frames without a
    face drop out of the pairs) and its person."""
    from viewfinder.dataset import load_dataset, read_image  # noqa: PLC0415
    from viewfinder.metrics import burst_labels  # noqa: PLC0415
    from viewfinder.training.fuse import person_of  # noqa: PLC0415

    ds = load_dataset(root)
    labels = {b.burst: b for b in burst_labels(ds)}
    out = []
    for b in ds.bursts:
        if b.id not in labels:
            continue
        crops, found = [], []
        for p in b.frames:
            img = read_image(p)
            det = analyzer.detect(img)
            grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            found.append(bool(det))
            crops.append(F.face_crop(grey, det[0][2], F.FACE_CROP_SCALE, size) if det
                         else np.full((size, size), 128, np.uint8))
        pairs = [(a, c) for a, c, lab in labels[b.id].pairs if lab > 0 and found[a] and found[c]]
        out.append({"id": b.id, "person": person_of(b.id), "x": np.stack(crops), "pairs": pairs})
    return out


def train_pairs(cfg: TrainConfig, bursts: list[dict]) -> TinyCNN:
    """Pairwise logistic loss on the score difference, log(1 + exp(-(s_a - s_b))) (the paper's
    eq. 2 without ties); a step takes about six whole bursts so each crop is scored once."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = TinyCNN(cfg.widths)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    for _ in range(cfg.epochs):
        model.train()
        for step in np.array_split(rng.permutation(len(bursts)), max(1, len(bursts) // 6)):
            xs, pa, pb, off = [], [], [], 0
            for j in step:
                b = bursts[j]
                xs.append(augment(b["x"], rng))
                pa += [off + a for a, _ in b["pairs"]]
                pb += [off + c for _, c in b["pairs"]]
                off += len(b["x"])
            if not pa:
                continue
            s = model(torch.from_numpy(F.normalise_patches(np.concatenate(xs)))).reshape(-1)  # (n,)
            loss = nn.functional.softplus(-(s[pa] - s[pb])).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def face_pairs_oof(data: Path, models_dir: Path, log=print) -> dict[str, list[float]]:
    """Out-of-fold face-pair scores of every frame of bursts-train and bursts-dev: each person's
    frames are scored by a net trained without any of that person's bursts."""
    analyzer = F.FaceAnalyzer(models_dir)
    bursts = [b for split in ("bursts-train", "bursts-dev")
              for b in load_burst_faces(data / split, analyzer, FACE_PAIRS.input_size)]
    oof: dict[str, list[float]] = {}
    for person in sorted({b["person"] for b in bursts}):
        model = train_pairs(FACE_PAIRS, [b for b in bursts if b["person"] != person])
        for b in bursts:
            if b["person"] == person:
                oof[b["id"]] = predict_logits(model, b["x"]).tolist()
        log(f"face pairs: {person} done")
    return oof


@torch.no_grad()
def predict_logits(model: TinyCNN, x: np.ndarray) -> np.ndarray:
    return model(torch.from_numpy(F.normalise_patches(x))).numpy().reshape(-1)


# ---------------------------------------------------------------- export

def export(model: TinyCNN, cfg: TrainConfig, out: Path, extra: dict | None = None) -> None:
    """ONNX with a dynamic batch and its contract in metadata_props["viewfinder"]; atomic."""
    import onnx  # noqa: PLC0415

    model.eval()
    dummy = torch.zeros(1, 1, cfg.input_size, cfg.input_size)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=out.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings():  # the TorchScript exporter is deprecated, still fine here
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(model, (dummy,), tmp, input_names=["patch"], output_names=["logit"],
                              dynamic_axes={"patch": {0: "n"}, "logit": {0: "n"}},
                              opset_version=17, dynamo=False)
        m = onnx.load(tmp)
        meta = {"task": cfg.task, "input_size": cfg.input_size, "crop_scale": cfg.crop_scale,
                "channels": "grey", "normalisation": "per-patch (x - mean) / max(std, 8)",
                "output": "logit of P(positive)", "version": MODEL_VERSION,
                "train_config": asdict(cfg), **(extra or {})}
        m.metadata_props.add(key="viewfinder", value=json.dumps(meta))
        onnx.checker.check_model(m)
        onnx.save(m, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model is a shipped file
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m viewfinder.training.face_models", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task", choices=["eyes", "smile", "face-pairs"],
                    help="face-pairs: experiment, writes out-of-fold scores to --out (JSON) for "
                         "`python -m viewfinder.training.fuse --report --face-pairs-oof`")
    ap.add_argument("--data", type=Path, required=True,
                    help="../shared/data/eyes, ../shared/data/smiles or ../shared/data (face-pairs)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--detector", type=Path, default=Path("models") / F.DETECTOR_FILE)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--report", type=Path, default=None, help="write the held-out numbers as JSON")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)  # the machine is shared; more threads only contend
    if not a.data.is_dir():
        print(f"error: data folder not found: {a.data}", file=sys.stderr)
        return 2
    if a.task == "face-pairs":
        oof = face_pairs_oof(a.data, a.detector.parent, log=lambda s: print(s, file=sys.stderr))
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(oof))
        print(f"wrote {a.out}", file=sys.stderr)
        return 0
    cfg = EYES if a.task == "eyes" else SMILE
    if a.epochs:
        cfg = TrainConfig(**{**asdict(cfg), "epochs": a.epochs})
    if a.task == "eyes":
        x, y, groups = load_eyes(a.data)
        test = group_split(groups, 0.2, cfg.seed)
        xtr, ytr, xte, yte = x[~test], y[~test], x[test], y[test]
        split = "20% of source faces held out (left and right eye of a face on the same side)"
    else:
        if not a.detector.is_file():
            print(f"error: face detector not found: {a.detector}", file=sys.stderr)
            return 2
        d = load_smiles(a.data, a.detector)
        (xtr, ytr), (xte, yte) = d["train"], d["test"]
        split = "GENKI crops64 test_folder (stale duplicates and crops without a face dropped)"
    print(f"{a.task}: train {len(xtr)} (positive {int(ytr.sum())}), test {len(xte)}", file=sys.stderr)
    model = train(cfg, xtr, ytr, log=lambda s: print(s, file=sys.stderr))
    report = {"task": cfg.task, "split": split, "train_n": int(len(xtr)),
              "test": evaluate(predict(model, xte), yte)}
    export(model, cfg, a.out, {"held_out": report["test"]})
    report["onnx_bytes"] = a.out.stat().st_size
    text = json.dumps(report, indent=1)
    print(text)
    if a.report:
        a.report.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
